"""Broker accounts from ``teams.toml``: Mosquitto's password file and ACL file, kept in step.

Accounts and what each may do (anything else is refused by the broker):

- each device, login ``{team}.{athlete}.{device}``: publish under its own
  ``stridewatch/v1/{team}/{athlete}/{device}/#`` (its streams, retained status, last will);
- each coach with an ``mqtt_login``: read their team's alerts and dead letters, read and
  write their team's alert acknowledgements;
- the service, login ``stridewatch``: read every device topic (also through ``$share/``
  subscriptions: Mosquitto checks each delivered message's own topic), write alerts, dead
  letters and acknowledgements;
- only when asked (``simulator_teams``), the simulator, login ``simulator``: publish any
  device topic of those teams, for demos and load tests (``stridewatch simulate --fleet``).

Passwords come from ``STRIDEWATCH_SECRET_{LOGIN}`` (the login upper-cased, other characters
as ``_``) or the file ``{secrets_dir}/{login}``; a new account without either gets a generated
one, written to that file (0600). Re-running keeps every password the broker has unless the
account is rotated or given a different one. Nothing here logs or returns a password.

Exceptions::

    ProvisionError (ValueError)   a new account has no password and there is nowhere to keep
                                  a generated one, or one variable names two accounts
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.topics import PREFIX, is_id
from stridewatch.broker.passwords import hash_password, read_password_file, verify
from stridewatch.errors import StridewatchError
from stridewatch.teams import SERVICE_LOGIN, TeamsConfig

__all__ = [
    "SIMULATOR_LOGIN",
    "Account",
    "ProvisionError",
    "Report",
    "accounts",
    "provision",
    "provisioned_password",
    "secret_variable",
]

SIMULATOR_LOGIN = "simulator"
SECRET_PREFIX = "STRIDEWATCH_SECRET_"
_HEADER = "# Written by `stridewatch provision` from teams.toml: change that file, not this one.\n"


class ProvisionError(StridewatchError, ValueError):
    """The accounts cannot be provisioned as asked; the message says what to do."""


@dataclass(frozen=True)
class Account:
    """A broker login and its ACL lines (``topic read|write|readwrite FILTER``)."""

    login: str
    rules: tuple[str, ...]


@dataclass
class Report:
    """Account names only, by what happened to them."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def accounts(teams: TeamsConfig, simulator_teams: Collection[str] = ()) -> list[Account]:
    """Every account ``teams`` implies: the service's, then per team its devices and coaches,
    then the simulator's if it has teams."""
    found = [
        Account(
            SERVICE_LOGIN,
            (
                f"topic read {PREFIX}/+/+/+/+",
                f"topic readwrite {PREFIX}/+/alerts/#",
                f"topic write {PREFIX}/+/deadletter",
                f"topic readwrite {PREFIX}/+/acks/#",
            ),
        )
    ]
    for team in teams:
        t = team.team_id
        found += [
            Account(f"{t}.{d.athlete}.{d.device}", (f"topic write {PREFIX}/{t}/{d.athlete}/{d.device}/#",))
            for d in team.devices
        ]
        found += [
            Account(
                coach.mqtt_login,
                (
                    f"topic read {PREFIX}/{t}/alerts/#",
                    f"topic read {PREFIX}/{t}/deadletter",
                    f"topic readwrite {PREFIX}/{t}/acks/#",
                ),
            )
            for coach in team.coaches
            if coach.mqtt_login
        ]
    if simulator_teams:
        found.append(Account(SIMULATOR_LOGIN, tuple(f"topic write {PREFIX}/{t}/+/+/+" for t in simulator_teams)))
    return found


def secret_variable(login: str) -> str:
    """The environment variable that may hold ``login``'s password."""
    return SECRET_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", login).upper()


def provisioned_password(login: str, *, secrets_dir: Path | None, environ: Mapping[str, str]) -> str | None:
    """``login``'s password from ``STRIDEWATCH_SECRET_{LOGIN}``, else the file ``{secrets_dir}/{login}``."""
    given = environ.get(secret_variable(login))
    if given is None and secrets_dir is not None and (secrets_dir / login).is_file():
        given = (secrets_dir / login).read_text(encoding="utf-8").strip()
    return given


def provision(
    teams: TeamsConfig,
    *,
    passwords: Path,
    acl: Path,
    secrets_dir: Path | None,
    rotate: Collection[str] = (),
    simulator_teams: Collection[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Create or update ``passwords`` and ``acl`` for ``teams``; see the module doc."""
    env = os.environ if environ is None else environ
    wanted = accounts(teams, simulator_teams)
    logins = [a.login for a in wanted]
    for login in dict.fromkeys(x for x in logins if logins.count(x) > 1):
        raise ProvisionError(f"two accounts would have the login {login!r}: give the coach another mqtt_login")
    for team in simulator_teams:
        if not is_id(team):
            raise ProvisionError(f"simulator team {team!r} is not a team id (1-64 of A-Z, a-z, 0-9, '_', '-')")
    unknown = sorted(set(rotate) - {a.login for a in wanted})
    if unknown:
        raise ProvisionError(f"cannot rotate {', '.join(unknown)}: no such account in the teams file")
    _check_variables(wanted, env)
    old_hashes = read_password_file(passwords)
    old_rules = _read_acl(acl)
    report = Report()
    hashes = {}
    for account in wanted:
        login = account.login
        given = provisioned_password(login, secrets_dir=None if login in rotate else secrets_dir, environ=env)
        old = old_hashes.get(login)
        if given is not None and old is not None and verify(given, old):
            hashes[login] = old
        elif given is not None:
            hashes[login] = hash_password(given)
        elif old is not None and login not in rotate:
            hashes[login] = old
        else:
            hashes[login] = hash_password(_generate(login, secrets_dir))
        if old is None:
            report.created.append(login)
        elif hashes[login] != old or old_rules.get(login) != account.rules:
            report.updated.append(login)
        else:
            report.unchanged.append(login)
    report.removed = sorted(old_hashes.keys() - hashes.keys())
    _write(passwords, "".join(f"{login}:{encoded}\n" for login, encoded in hashes.items()))
    _write(acl, _HEADER + "".join(f"\nuser {a.login}\n" + "".join(f"{r}\n" for r in a.rules) for a in wanted))
    return report


def _check_variables(wanted: list[Account], env: Mapping[str, str]) -> None:
    """Two logins can map to one variable (``a-b``, ``a_b``); a value set there would be ambiguous."""
    by_variable: dict[str, list[str]] = {}
    for account in wanted:
        by_variable.setdefault(secret_variable(account.login), []).append(account.login)
    for variable, logins in by_variable.items():
        if len(logins) > 1 and variable in env:
            raise ProvisionError(
                f"{variable} would be the password of {' and '.join(logins)}: "
                "unset it and put each password in the secrets folder instead"
            )


def _generate(login: str, secrets_dir: Path | None) -> str:
    if secrets_dir is None:
        raise ProvisionError(
            f"no password for the account {login}: set {secret_variable(login)}, "
            "or give --secrets-dir to generate one there"
        )
    password = secrets.token_urlsafe(32)
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(secrets_dir / login, password + "\n")
    return password


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically; owner-only from the first byte, since it may hold secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def _read_acl(path: Path) -> dict[str, tuple[str, ...]]:
    """login -> its ACL lines, from an ACL file this module wrote (empty when there is none yet)."""
    if not path.exists():
        return {}
    return dict(_acl_blocks(path.read_text(encoding="utf-8").splitlines()))


def _acl_blocks(lines: list[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    login: str | None = None
    rules: list[str] = []
    for line in [*lines, "user"]:
        if line.startswith("user"):
            if login is not None:
                yield login, tuple(rules)
            login, rules = line.removeprefix("user").strip(), []
        elif line.startswith("topic"):
            rules.append(line)
