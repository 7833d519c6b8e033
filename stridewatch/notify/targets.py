"""Where coaches are notified: apprise URLs, checked once when teams.toml is read, expanded only to send.

A URL may say ``${SMTP_PASSWORD}``: the variable is expanded to check the URL and again when a
notification goes out, never stored; logs show a URL only as `target_label` (scheme and
host), and anything apprise says of it with its secrets masked (`redact`).

Examples
--------
>>> target_label("json://user:pw@hooks.example.org:8080/x")
'json://hooks.example.org:8080'
>>> target_label("tgram://123456:token/chat")
'tgram://***'
>>> expand_env("mailto://a:${PW}@mail.example.org", {"PW": "s3cret"})
'mailto://a:s3cret@mail.example.org'
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import cache
from urllib.parse import urlsplit

import apprise
from apprise.manager_plugins import NotificationManager

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(url: str, environ: Mapping[str, str] | None = None) -> str:
    """``url`` with each ``${NAME}`` replaced by the environment variable; ValueError names a missing one."""
    env = os.environ if environ is None else environ
    missing = sorted({name for name in _ENV_REF.findall(url) if name not in env})
    if len(missing) == 1:
        raise ValueError(f"environment variable {missing[0]} is not set")
    if missing:
        raise ValueError(f"environment variables {', '.join(missing)} are not set")
    return _ENV_REF.sub(lambda m: env[m[1]], url)


def target_label(url: str) -> str:
    """``scheme://host[:port]`` for logs; a "host" without a dot (Slack or Telegram tokens, ntfy
    topics) is a secret in many services, so it is shown as ``***``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = host if host == "localhost" or "." in host or ":" in host else "***"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{shown}" + (f":{port}" if port and shown != "***" else "")


def _secrets_of(url: str) -> list[str]:
    """What must never be echoed from ``url``: expanded variables and the URL's password."""
    found = [os.environ.get(name, "") for name in _ENV_REF.findall(url)]
    with suppress(ValueError):  # an unset variable leaves no value to hide
        found.append(urlsplit(expand_env(url)).password or "")
    return [s for s in found if len(s) >= 3]


def redact(text: str, url: str) -> str:
    """``text`` (an apprise message about ``url``) with the URL's secrets masked."""
    for secret in _secrets_of(url):
        text = text.replace(secret, "***")
    return text


def check_notify_url(url: str) -> str:
    """Expand and load ``url`` with apprise; ValueError with a reason that holds no secret."""
    expanded = expand_env(url)
    scheme = urlsplit(expanded).scheme
    if not scheme or "://" not in expanded:
        raise ValueError("not a URL: expected scheme://..., e.g. mailto://, json://, slack://, ntfy://")
    if scheme.lower() not in apprise_plugins():
        raise ValueError(
            f"{scheme}:// is not a notification service apprise knows (see https://appriseit.com/services/)"
        )
    with apprise_warnings(url) as why:
        plugin = apprise.Apprise.instantiate(expanded)
    if plugin is None:
        detail = "; ".join(why) or "check the URL's format for this service"
        raise ValueError(f"apprise cannot use this {scheme}:// URL: {detail}")
    return url


@cache
def apprise_plugins() -> NotificationManager:
    """Apprise's plugins, loaded once. Its email plugin imports the stdlib ``imghdr`` (for PGPy),
    deprecated on Python 3.11-3.12: that warning is not ours, and would fail ``-W error`` runs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        plugins = NotificationManager()  # type: ignore[no-untyped-call]
        plugins.load_modules()  # type: ignore[no-untyped-call]
    return plugins


@contextmanager
def apprise_warnings(url: str) -> Iterator[list[str]]:
    """Collect apprise's warnings about ``url`` while the block runs, with its secrets masked.

    Only WARNING lines are kept: they say what is wrong, where apprise's ERROR lines echo the URL.
    """
    found: list[str] = []
    with apprise.LogCapture(level=logging.WARNING, fmt="%(levelname)s %(message)s") as captured:  # type: ignore[no-untyped-call]
        yield found
    lines = captured.getvalue().splitlines()
    found.extend(redact(line.removeprefix("WARNING "), url) for line in lines if line.startswith("WARNING "))


# -- the file's schema --------------------------------------------------------------------
