"""`stridewatch provision`: accounts and ACLs from teams.toml, passwords kept, rotated, never shown."""

from __future__ import annotations

import doctest
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stridewatch.broker.passwords
from stridewatch.broker.passwords import hash_password, read_password_file, verify
from stridewatch.broker.provision import ProvisionError, Report, accounts, provision, secret_variable
from stridewatch.cli import app
from stridewatch.teams import TeamsConfig, TeamsConfigError

HOOK = "json://127.0.0.1:8080/hook"
TEAMS = f"""
[teams.red.devices]
a-1 = ["pod-1", "watch-1"]
[[teams.red.coaches]]
name = "Rae"
mqtt_login = "rae"
notify = ["{HOOK}"]

[teams.blue.devices]
b-1 = ["pod-1"]
[[teams.blue.coaches]]
name = "Bo"
notify = ["{HOOK}"]
"""


def teams(tmp_path: Path, text: str = TEAMS) -> TeamsConfig:
    path = tmp_path / "teams.toml"
    path.write_text(text)
    return TeamsConfig.load(path)


def run(
    tmp_path: Path,
    config: TeamsConfig,
    *,
    environ: dict[str, str] | None = None,
    rotate: list[str] | None = None,
    simulator_teams: list[str] | None = None,
) -> Report:
    return provision(
        config,
        passwords=tmp_path / "passwords",
        acl=tmp_path / "acl",
        secrets_dir=tmp_path / "secrets",
        rotate=rotate or (),
        simulator_teams=simulator_teams or (),
        environ=environ or {},
    )


def test_the_acl_gives_each_account_only_its_own_topics(tmp_path: Path) -> None:
    rules = {a.login: a.rules for a in accounts(teams(tmp_path))}
    assert rules["red.a-1.pod-1"] == ("topic write stridewatch/v1/red/a-1/pod-1/#",)
    assert rules["blue.b-1.pod-1"] == ("topic write stridewatch/v1/blue/b-1/pod-1/#",)
    assert rules["rae"] == (
        "topic read stridewatch/v1/red/alerts/#",
        "topic read stridewatch/v1/red/deadletter",
        "topic readwrite stridewatch/v1/red/acks/#",
    )
    assert "topic read stridewatch/v1/+/+/+/+" in rules["stridewatch"]
    assert sorted(rules) == [
        "blue.b-1.pod-1",
        "rae",
        "red.a-1.pod-1",
        "red.a-1.watch-1",
        "stridewatch",
    ]  # Bo has no login


def test_new_accounts_get_generated_passwords_kept_owner_only(tmp_path: Path) -> None:
    report = run(tmp_path, teams(tmp_path))
    assert report.created == ["stridewatch", "red.a-1.pod-1", "red.a-1.watch-1", "rae", "blue.b-1.pod-1"]
    hashes = read_password_file(tmp_path / "passwords")
    for login, encoded in hashes.items():
        secret = tmp_path / "secrets" / login
        assert verify(secret.read_text().strip(), encoded)
        assert len(secret.read_text().strip()) >= 40
        assert secret.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "passwords").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700


def test_rerunning_keeps_passwords_and_reports_changes_by_name(tmp_path: Path) -> None:
    run(tmp_path, teams(tmp_path))
    before = read_password_file(tmp_path / "passwords")
    report = run(tmp_path, teams(tmp_path))
    assert (report.created, report.updated, report.removed) == ([], [], [])
    assert read_password_file(tmp_path / "passwords") == before

    shutil.rmtree(tmp_path / "secrets")  # the broker's hashes are enough to keep a password
    moved = TEAMS.replace('a-1 = ["pod-1", "watch-1"]', 'a-1 = ["pod-1"]').replace('"rae"', '"rae-2"')
    report = run(tmp_path, teams(tmp_path, moved))
    assert report.removed == ["rae", "red.a-1.watch-1"]
    assert report.created == ["rae-2"]
    assert read_password_file(tmp_path / "passwords")["stridewatch"] == before["stridewatch"]


def test_a_coach_moving_team_is_an_updated_account(tmp_path: Path) -> None:
    run(tmp_path, teams(tmp_path))
    moved = TEAMS.replace('mqtt_login = "rae"\n', "").replace('name = "Bo"\n', 'name = "Bo"\nmqtt_login = "rae"\n')
    report = run(tmp_path, teams(tmp_path, moved))
    assert report.updated == ["rae"]
    assert "topic read stridewatch/v1/blue/alerts/#" in (tmp_path / "acl").read_text()


def test_passwords_from_the_environment_and_rotation(tmp_path: Path) -> None:
    env = {secret_variable("rae"): "rae-chose-this", secret_variable("red.a-1.pod-1"): "pod-secret"}
    assert secret_variable("red.a-1.pod-1") == "STRIDEWATCH_SECRET_RED_A_1_POD_1"
    run(tmp_path, teams(tmp_path), environ=env)
    hashes = read_password_file(tmp_path / "passwords")
    assert verify("rae-chose-this", hashes["rae"]) and verify("pod-secret", hashes["red.a-1.pod-1"])
    assert not (tmp_path / "secrets" / "rae").exists()  # given passwords are not written anywhere

    report = run(tmp_path, teams(tmp_path), environ=env, rotate=["stridewatch"])
    assert report.updated == ["stridewatch"]
    after = read_password_file(tmp_path / "passwords")
    assert after["stridewatch"] != hashes["stridewatch"]
    assert verify((tmp_path / "secrets" / "stridewatch").read_text().strip(), after["stridewatch"])

    report = run(tmp_path, teams(tmp_path), environ={**env, secret_variable("rae"): "rae-changed-it"})
    assert report.updated == ["rae"]


def test_a_new_account_without_a_password_or_a_place_for_one_fails(tmp_path: Path) -> None:
    with pytest.raises(
        ProvisionError, match="no password for the account stridewatch: set STRIDEWATCH_SECRET_STRIDEWATCH"
    ):
        provision(teams(tmp_path), passwords=tmp_path / "p", acl=tmp_path / "a", secrets_dir=None, environ={})
    with pytest.raises(ProvisionError, match="cannot rotate nobody"):
        run(tmp_path, teams(tmp_path), rotate=["nobody"])


def test_the_simulator_account_is_only_made_when_asked(tmp_path: Path) -> None:
    config = teams(tmp_path)
    assert "simulator" not in {a.login for a in accounts(config)}
    sim = {a.login: a.rules for a in accounts(config, ["team-00"])}["simulator"]
    assert sim == ("topic write stridewatch/v1/team-00/+/+/+",)
    with pytest.raises(ProvisionError, match="not a team id"):
        run(tmp_path, config, simulator_teams=["#"])


def test_the_command_prints_account_names_never_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "teams.toml").write_text(TEAMS)
    monkeypatch.setenv(secret_variable("rae"), "rae-very-secret")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["provision", "--teams", "teams.toml"])
    assert result.exit_code == 0, result.output
    assert "created rae\n" in result.output and "5 created" in result.output
    secrets = [p.read_text().strip() for p in (tmp_path / "deploy" / "secrets").iterdir()]
    for secret in [*secrets, "rae-very-secret"]:
        assert secret not in result.output
    assert (tmp_path / "deploy" / "mosquitto" / "generated" / "acl").exists()


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (('"rae"', '"stridewatch"'), "teams.red.coaches[0].mqtt_login", "the stridewatch service's own broker login"),
        (('"rae"', '"rae.x"'), "teams.red.coaches[0].mqtt_login", "mqtt_login 'rae.x' must be 1-64 characters"),
        (('name = "Bo"', 'name = "Bo"\nmqtt_login = "rae"'), "teams.blue.coaches[0].mqtt_login",
         "'rae' is already the login of teams.red.coaches[0].mqtt_login"),
        (('"watch-1"', '"pod-1"'), "teams.red.devices", "device 'pod-1' is listed for a-1 and again for a-1"),
        (('b-1 = ["pod-1"]', 'b-1 = ["pod-1"]\nb-2 = ["pod-1"]'), "teams.blue.devices",
         "device 'pod-1' is listed for b-1 and again for b-2"),
        (('"watch-1"', '"watch/1"'), "teams.red.devices.a-1[1]", "device id 'watch/1' must be 1-64 characters"),
        (("a-1 =", '"a 1" ='), 'teams.red.devices."a 1"', "athlete id 'a 1' must be 1-64 characters"),
    ],
)  # fmt: skip
def test_teams_file_mistakes_in_accounts(tmp_path: Path, change: tuple[str, str], path: str, problem: str) -> None:
    with pytest.raises(TeamsConfigError) as caught:
        teams(tmp_path, TEAMS.replace(*change))
    assert [p for p, _ in caught.value.problems] == [path]
    assert problem in str(caught.value)


def test_hashes_are_interchangeable_with_mosquitto_passwd(tmp_path: Path) -> None:
    binary = shutil.which("mosquitto_passwd")
    assert binary, "mosquitto_passwd (package mosquitto) is needed to check the password format"
    file = tmp_path / "pw"
    file.write_text("")
    os.chmod(file, 0o600)
    # -b puts the password on the command line: fine for a test password, which is why provision does not use it
    subprocess.run([binary, "-b", str(file), "someone", "their password"], check=True, capture_output=True)
    theirs = read_password_file(file)["someone"]
    assert verify("their password", theirs) and not verify("another", theirs)
    ours = hash_password("their password")
    assert ours.split("$")[:3] == theirs.split("$")[:3]  # same scheme and iteration count
    assert len(ours) == len(theirs)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(stridewatch.broker.passwords).failed == 0
