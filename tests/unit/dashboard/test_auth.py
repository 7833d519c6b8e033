"""The dashboard's sign-in pieces: accounts from teams.toml, the throttle, sessions, CSRF, start-up checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from stridewatch.broker.provision import secret_variable
from stridewatch.dashboard.access import safe_next
from stridewatch.dashboard.auth import (
    FREE_FAILURES,
    MAX_WAIT_S,
    Account,
    Gate,
    SignInSetupError,
    Throttle,
    gate_for,
    is_loopback,
    load_accounts,
)
from stridewatch.teams import TeamsConfig

TEAMS = """
[teams.harriers]
[[teams.harriers.coaches]]
name = "Sam Okafor"
mqtt_login = "sam-okafor"
notify = ["json://localhost/x"]
[[teams.harriers.coaches]]
name = "Physio desk"
notify = ["json://localhost/x"]
[teams.skip-squad]
[[teams.skip-squad.coaches]]
name = "Dana Li"
mqtt_login = "dana-li"
admin = true
notify = ["json://localhost/x"]
"""


@pytest.fixture
def teams(tmp_path: Path) -> TeamsConfig:
    path = tmp_path / "teams.toml"
    path.write_text(TEAMS)
    return TeamsConfig.load(path)


def test_accounts_hash_the_provisioned_passwords_and_take_them_out_of_the_environment(
    teams: TeamsConfig, tmp_path: Path
) -> None:
    (tmp_path / "dana-li").write_text("from-the-secrets-folder\n")
    environ = {secret_variable("sam-okafor"): "from-the-variable", "OTHER": "kept"}
    accounts, missing = load_accounts(teams, secrets_dir=tmp_path, environ=environ)
    assert missing == [] and environ == {"OTHER": "kept"}
    assert accounts["sam-okafor"].teams == frozenset({"harriers"}) and accounts["dana-li"].teams is None  # admin
    for login, password in (("sam-okafor", "from-the-variable"), ("dana-li", "from-the-secrets-folder")):
        account = accounts[login]
        assert account.password_hash.startswith("$argon2id$") and password not in account.password_hash
        assert password not in repr(account) and account.password_hash not in repr(account)
        assert Gate(accounts).check(login, password) == account
        assert Gate(accounts).check(login, password + "x") is None


def test_a_coach_without_a_password_is_named_with_where_to_put_it(teams: TeamsConfig, tmp_path: Path) -> None:
    accounts, missing = load_accounts(teams, secrets_dir=tmp_path, environ={secret_variable("dana-li"): "pw"})
    assert list(accounts) == ["dana-li"]
    assert missing == [
        f"{teams.source}: teams.harriers.coaches[0].mqtt_login = 'sam-okafor': no password: set "
        f"STRIDEWATCH_SECRET_SAM_OKAFOR or write it to {tmp_path / 'sam-okafor'} (stridewatch provision makes one)"
    ]


def test_beyond_loopback_sign_in_is_required(teams: TeamsConfig, tmp_path: Path) -> None:
    with pytest.raises(SignInSetupError, match=r"refusing to serve every team's athletes on 0\.0\.0\.0.*mqtt_login"):
        gate_for(TeamsConfig.default(), secrets_dir=None, host="0.0.0.0", insecure_no_auth=False, environ={})
    with pytest.raises(SignInSetupError, match=r"no coach can sign in:\n.*sam-okafor"):
        gate_for(teams, secrets_dir=tmp_path, host="127.0.0.1", insecure_no_auth=False, environ={})
    open_gate, warnings = gate_for(TeamsConfig.default(), secrets_dir=None, host="127.0.0.1",
                                   insecure_no_auth=False, environ={})  # fmt: skip
    assert not open_gate.required and warnings == []
    insecure, warnings = gate_for(teams, secrets_dir=None, host="0.0.0.0", insecure_no_auth=True, environ={})
    assert not insecure.required and "anyone who reaches 0.0.0.0" in warnings[0]
    gate, _ = gate_for(teams, secrets_dir=None, host="0.0.0.0", insecure_no_auth=False,
                       environ={secret_variable("sam-okafor"): "pw"})  # fmt: skip
    assert gate.required and list(gate.accounts) == ["sam-okafor"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("dashboard.example.org", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_throttle_doubles_the_wait_after_the_free_failures() -> None:
    throttle = Throttle()
    waits = []
    for i in range(FREE_FAILURES + 12):
        throttle.failed("address:a", now=float(i))
        waits.append(throttle.wait_s("address:a", now=float(i)))
    expected = [0.0] * FREE_FAILURES + [min(MAX_WAIT_S, 2.0**k) for k in range(12)]
    assert waits == expected
    assert throttle.wait_s("address:b", "address:a", now=float(len(waits) - 1)) == expected[-1]  # any key holds it
    throttle.succeeded("address:a")
    assert throttle.wait_s("address:a", now=0.0) == 0.0


def _gate(lifetime_s: float = 60.0) -> tuple[Gate, Account]:
    account = Account(login="kim", name="Kim", teams=frozenset({"t"}), password_hash="-")
    return Gate({"kim": account}, lifetime_s=lifetime_s), account


def test_sessions_end_on_sign_out_and_expire() -> None:
    gate, account = _gate(lifetime_s=60.0)
    cookie = gate.start(account, now=1000.0)
    session = gate.session(cookie, now=1059.0)
    assert session is not None and gate.viewer(session).login == "kim"  # type: ignore[union-attr]
    assert gate.session(cookie, now=1061.0) is None  # expired
    gate.end(session)
    assert gate.session(cookie, now=1001.0) is None  # ended: a copy of the cookie is dead too


def test_forged_and_tampered_cookies_are_refused() -> None:
    gate, account = _gate()
    cookie = gate.start(account, now=0.0)
    sid = cookie.rsplit(".", 2)[0]
    forged = TimestampSigner(b"another key" * 3, salt="stridewatch-session").sign(sid).decode()
    value, signature = cookie.rsplit(".", 1)
    # (a signature's last base64 character carries padding bits too: change its first)
    tampered = f"{value}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for bad in (sid, forged, tampered, "", "é" * 10):
        assert gate.session(bad, now=1.0) is None, bad
    assert gate.session(cookie, now=1.0) is not None


def test_csrf_tokens_belong_to_one_browser() -> None:
    gate, _ = _gate()
    token = gate.csrf_token("browser-a")
    assert gate.csrf_ok("browser-a", token)
    assert not gate.csrf_ok("browser-b", token)
    assert not gate.csrf_ok("browser-a", token[:-1])
    assert not gate.csrf_ok("browser-a", "\x80" + token[1:])
    assert not gate.csrf_ok("", gate.csrf_token(""))


@pytest.mark.parametrize(
    ("target", "safe"),
    [("/athletes/t/a", "/athletes/t/a"), ("/?team=x", "/?team=x"), ("//evil.example/", "/"),
     ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("javascript:alert(1)", "/")],
)  # fmt: skip
def test_after_a_form_only_paths_of_this_app(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_the_command_refuses_an_open_dashboard_beyond_loopback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stridewatch.cli import app

    result = CliRunner().invoke(app, ["dashboard", "--db", f"sqlite:///{tmp_path}/x.db", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to serve every team's athletes on 0.0.0.0" in result.output
    assert "--insecure-no-auth" in result.output and not (tmp_path / "x.db").exists()
