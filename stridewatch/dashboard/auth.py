"""Who may see what: coaches' accounts, sign-in sessions, CSRF tokens, the failed sign-in throttle.

Accounts are the coaches of ``teams.toml`` with an ``mqtt_login``: one credential per coach,
the password ``stridewatch provision`` manages (``STRIDEWATCH_SECRET_<LOGIN>`` or
``<secrets dir>/<login>``). It is read once at start-up and kept only as an argon2id hash;
the variable is removed from this process's environment so that no child inherits it.
A coach sees their own team; ``admin = true`` sees every team.

Security decisions, briefly:

- Sessions live on the server: the cookie holds a random 256-bit id, signed (itsdangerous)
  so a forged or altered cookie is refused before any lookup. Sign-out deletes the
  session, so a copied cookie dies with it; every session expires after ``lifetime_s``.
  Restarting the dashboard signs everyone out (the signing key is made at start-up).
- The cookie is HttpOnly (no script reads it), SameSite=Lax (a cross-site POST does not
  carry it), and Secure when the request came over HTTPS (behind a TLS proxy too).
- CSRF: each form carries an HMAC of a secret the browser holds in an HttpOnly cookie
  (the session id once signed in, a random nonce before), checked in constant time on
  every POST. Another site can neither read the cookie nor compute the token.
- Wrong passwords: per client address and per login, the first ``FREE_FAILURES`` are free,
  then each one doubles a wait (1 s, 2 s, 4 s ... 15 min) during which sign-ins are refused
  unchecked. A login that does not exist is checked against a dummy hash, so it takes as
  long as a wrong password and the answer is the same words. Two checks run at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, TimestampSigner

from stridewatch.broker.provision import provisioned_password, secret_variable
from stridewatch.errors import StridewatchError
from stridewatch.teams import TeamsConfig

SESSION_COOKIE = "sw_session"
NONCE_COOKIE = "sw_nonce"
SESSION_HOURS = 12.0
FREE_FAILURES = 5
MAX_WAIT_S = 900.0
_MAX_SESSIONS_PER_COACH = 20
_MAX_THROTTLED_KEYS = 10_000
_CONCURRENT_CHECKS = 2


@dataclass(frozen=True)
class Account:
    """A coach who can sign in; ``teams`` is None for an admin (every team)."""

    login: str
    name: str
    teams: frozenset[str] | None
    password_hash: str

    def __repr__(self) -> str:  # the hash stays out of logs too
        return f"Account(login={self.login!r}, name={self.name!r}, teams={self.teams!r})"


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a signed-in coach, or anyone when sign-in is off (``login`` None).
    ``teams`` None means every team."""

    name: str | None
    login: str | None
    teams: frozenset[str] | None

    def sees(self, team: str) -> bool:
        return self.teams is None or team in self.teams


EVERYONE = Viewer(name=None, login=None, teams=None)


class MissingPasswords(StridewatchError, ValueError):
    """Coaches listed with a login have no password; ``problems`` say where each one goes."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def load_accounts(
    teams: TeamsConfig, *, secrets_dir: Path | None, environ: MutableMapping[str, str] | None = None
) -> tuple[dict[str, Account], list[str]]:
    """Every coach with an ``mqtt_login`` whose password is found, hashed; and, for each one
    without a password, the line that says where to put it."""
    env = os.environ if environ is None else environ
    hasher = PasswordHasher()
    found: dict[str, Account] = {}
    missing = []
    for team in teams:
        for i, coach in enumerate(team.coaches):
            if coach.mqtt_login is None:
                continue
            password = provisioned_password(coach.mqtt_login, secrets_dir=secrets_dir, environ=env)
            env.pop(secret_variable(coach.mqtt_login), None)
            if not password:
                where = f" or write it to {secrets_dir / coach.mqtt_login}" if secrets_dir else ""
                missing.append(
                    f"{teams.source}: teams.{team.team_id}.coaches[{i}].mqtt_login = {coach.mqtt_login!r}: no password: "
                    f"set {secret_variable(coach.mqtt_login)}{where} (stridewatch provision makes one)"
                )
                continue
            found[coach.mqtt_login] = Account(
                login=coach.mqtt_login,
                name=coach.name,
                teams=None if coach.admin else frozenset({team.team_id}),
                password_hash=hasher.hash(password),
            )
    return found, missing


class Throttle:
    """Failed sign-ins per key (a client address, a login): after ``free`` failures in a row,
    each further one doubles the wait before the next attempt is checked at all."""

    def __init__(self, *, free: int = FREE_FAILURES, max_wait_s: float = MAX_WAIT_S) -> None:
        self._free = free
        self._max_wait_s = max_wait_s
        self._state: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (failures, next allowed)
        self._lock = threading.Lock()

    def wait_s(self, *keys: str, now: float) -> float:
        """How long these keys must still wait (0: an attempt may be checked now)."""
        with self._lock:
            return max((self._state.get(k, (0, 0.0))[1] - now for k in keys), default=0.0) if keys else 0.0

    def failed(self, *keys: str, now: float) -> None:
        with self._lock:
            for key in keys:
                failures = self._state.pop(key, (0, 0.0))[0] + 1
                extra = failures - self._free
                wait = 0.0 if extra <= 0 else min(self._max_wait_s, 2.0 ** (extra - 1))
                self._state[key] = (failures, now + wait)
                while len(self._state) > _MAX_THROTTLED_KEYS:  # bounded: the oldest keys go first
                    self._state.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._state.pop(key, None)


@dataclass(frozen=True)
class Session:
    sid: str
    login: str
    expires_at: float


class Gate:
    """Sign-in for the dashboard: accounts, live sessions, cookies and CSRF tokens.

    Without accounts sign-in is off (``required`` False): everyone is `EVERYONE`, and forms
    still need their CSRF token. ``lifetime_s`` bounds a session; the key is random per process.
    """

    def __init__(self, accounts: Mapping[str, Account], *, lifetime_s: float = SESSION_HOURS * 3600) -> None:
        self.accounts = dict(accounts)
        self.required = bool(self.accounts)
        self.lifetime_s = lifetime_s
        self.throttle = Throttle()
        self._key = secrets.token_bytes(32)
        self._signer = TimestampSigner(self._key, salt="stridewatch-session")
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self._checking = threading.BoundedSemaphore(_CONCURRENT_CHECKS)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    # -- passwords ----------------------------------------------------------------------
    def check(self, login: str, password: str) -> Account | None:
        """The account when ``password`` is its own; the same work whether or not it exists.
        A few at a time: each check takes argon2's 64 MiB, and a flood must queue, not swap."""
        account = self.accounts.get(login)
        try:
            with self._checking:
                self._hasher.verify(account.password_hash if account else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return account

    # -- sessions -----------------------------------------------------------------------
    def start(self, account: Account, *, now: float) -> str:
        """A new session for ``account``; returns the cookie value."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
            mine = sorted((s for s in self._sessions.values() if s.login == account.login), key=lambda s: s.expires_at)
            for old in mine[: max(0, len(mine) - _MAX_SESSIONS_PER_COACH + 1)]:
                del self._sessions[old.sid]
            self._sessions[sid] = Session(sid, account.login, now + self.lifetime_s)
        return self._signer.sign(sid).decode()

    def session(self, cookie: str | None, *, now: float) -> Session | None:
        """The live session a cookie names: None when it is missing, forged, expired or ended."""
        if not cookie:
            return None
        try:
            sid = self._signer.unsign(cookie, max_age=int(self.lifetime_s)).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        with self._lock:
            found = self._sessions.get(sid)
        return found if found is not None and found.expires_at > now else None

    def end(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.sid, None)

    def viewer(self, session: Session | None) -> Viewer | None:
        """Who a request with this session is; None when it must sign in first."""
        if not self.required:
            return EVERYONE
        account = self.accounts.get(session.login) if session else None
        return None if account is None else Viewer(name=account.name, login=account.login, teams=account.teams)

    # -- CSRF ---------------------------------------------------------------------------
    def csrf_token(self, secret: str) -> str:
        """The form token for a browser holding ``secret`` (its session id or nonce cookie)."""
        return hmac.new(self._key, b"csrf:" + secret.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, secret: str | None, token: str | None) -> bool:
        if not secret or not token:
            return False
        # As bytes: compare_digest refuses str with non-ASCII characters (a hostile form sends them).
        return hmac.compare_digest(self.csrf_token(secret).encode(), token.encode("utf-8", "surrogatepass"))


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


class SignInSetupError(StridewatchError, ValueError):
    """The dashboard must not start as configured; the message names the line to fix."""


def gate_for(
    teams: TeamsConfig, *, secrets_dir: Path | None, host: str, insecure_no_auth: bool,
    lifetime_s: float = SESSION_HOURS * 3600, environ: MutableMapping[str, str] | None = None,
) -> tuple[Gate, list[str]]:  # fmt: skip
    """The sign-in gate for serving ``teams`` on ``host``, and warnings for the log.

    Safe by default: listening beyond this machine without sign-in is refused unless
    ``insecure_no_auth``; coach logins listed with no password at all is refused too.
    """
    if insecure_no_auth:
        return Gate({}), [f"--insecure-no-auth: anyone who reaches {host} sees and acknowledges every team"]
    accounts, missing = load_accounts(teams, secrets_dir=secrets_dir, environ=environ)
    if missing and not accounts:
        raise SignInSetupError("no coach can sign in:\n" + "\n".join(missing))
    if not accounts and not is_loopback(host):
        where = teams.source or "teams.toml (give it with --teams)"
        raise SignInSetupError(
            f"refusing to serve every team's athletes on {host} without sign-in: in {where}, give each coach "
            'an mqtt_login (e.g. `mqtt_login = "sam-okafor"` under [[teams.harriers.coaches]]) and a password '
            "(STRIDEWATCH_SECRET_<LOGIN> or --secrets-dir/<login>, as `stridewatch provision` makes), or listen "
            "on 127.0.0.1, or pass --insecure-no-auth"
        )
    return Gate(accounts, lifetime_s=lifetime_s), missing


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything
