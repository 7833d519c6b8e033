"""teams.toml: a valid file loads, every mistake names the file and the path, secrets stay hidden."""

from __future__ import annotations

import doctest
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import stridewatch.teams
from scoring.thresholds import DEFAULT_THRESHOLDS
from stridewatch.notify.targets import expand_env, target_label
from stridewatch.teams import QuietHours, TeamsConfig, TeamsConfigError

EXAMPLE = Path(__file__).parents[3] / "examples" / "teams.toml"
EXAMPLE_ENV = {
    "SMTP_PASSWORD": "hunter2-smtp", "HARRIERS_NTFY_TOPIC": "harriers-x7k2",
    "SKIP_SLACK_TOKEN_A": "T1JJ3T3L2", "SKIP_SLACK_TOKEN_B": "A1BRTD4JD", "SKIP_SLACK_TOKEN_C": "TIiajkdnlazkcOXrIdevi7FQ",
}  # fmt: skip
HOOK = "json://127.0.0.1:8080/hook"
LONDON = ZoneInfo("Europe/London")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "teams.toml"
    path.write_text(text)
    return path


def team_file(tmp_path: Path, settings: str = "", *, defaults: str = "", notify: str = f'"{HOOK}"') -> Path:
    return write(
        tmp_path,
        f'[defaults]\n{defaults}\n[teams.harriers]\nname = "Harriers"\n{settings}\n'
        f'[[teams.harriers.coaches]]\nname = "Sam"\nnotify = [{notify}]\n',
    )


def load_error(path: Path) -> TeamsConfigError:
    with pytest.raises(TeamsConfigError) as caught:
        TeamsConfig.load(path)
    return caught.value


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("example_env")
def test_the_example_file_loads() -> None:
    config = TeamsConfig.load(EXAMPLE)
    assert sorted(config.teams) == ["harriers", "skip-squad"]
    harriers = config.team("harriers")
    assert (harriers.name, harriers.timezone, harriers.notify_min_level) == ("Harriers", LONDON, "high")
    assert str(harriers.quiet_hours) == "22:00-07:00"
    assert [c.name for c in harriers.coaches] == ["Sam Okafor", "Physio desk"]
    assert harriers.targets[0].startswith("mailtos://alerts:${SMTP_PASSWORD}@smtp.example.org")  # kept as written
    skip = config.team("skip-squad")
    assert (skip.timezone, skip.notify_min_level, str(skip.quiet_hours)) == (
        ZoneInfo("America/Toronto"), "moderate", "23:30-06:30")  # fmt: skip


@pytest.mark.usefixtures("example_env")
def test_defaults_merge_into_each_team(tmp_path: Path) -> None:
    path = team_file(
        tmp_path,
        'timezone = "Europe/Dublin"\nquiet_hours = "off"\n[teams.harriers.thresholds.shoe_wear]\nmoderate_km = 500.0\n'
        "[teams.harriers.thresholds.acwr_spike]\nhigh = 1.6\n",
        defaults='timezone = "Europe/London"\nnotify_min_level = "moderate"\nquiet_hours = "22:00-07:00"\n'
        "[defaults.thresholds.shoe_wear]\nhigh_km = 700.0\n",
    )
    team = TeamsConfig.load(path).team("harriers")
    assert team.timezone == ZoneInfo("Europe/Dublin")  # the team's own setting wins
    assert team.notify_min_level == "moderate"  # from [defaults]
    assert team.quiet_hours is None  # "off" turns the default's quiet hours off
    assert (team.thresholds.shoe_wear.moderate_km, team.thresholds.shoe_wear.high_km) == (500.0, 700.0)
    assert team.thresholds.acwr_spike.high == 1.6
    assert team.thresholds.session_spike == DEFAULT_THRESHOLDS.session_spike


def test_built_in_defaults(tmp_path: Path) -> None:
    team = TeamsConfig.load(team_file(tmp_path)).team("harriers")
    assert (team.timezone, team.notify_min_level, team.quiet_hours) == (ZoneInfo("UTC"), "high", None)
    assert team.thresholds == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(
    ("settings", "path", "problem"),
    [
        ('timezone = "Europe/Londn"', "teams.harriers.timezone", "unknown time zone 'Europe/Londn'"),
        ('notify_min_level = "severe"', "teams.harriers.notify_min_level", "'low', 'moderate', 'high' or 'critical'"),
        ('quiet_hours = "22:00-25:00"', "teams.harriers.quiet_hours", "is not HH:MM-HH:MM"),
        ('quiet_hours = "10pm-6am"', "teams.harriers.quiet_hours", "is not HH:MM-HH:MM"),
        ('quiet_hours = "07:00-07:00"', "teams.harriers.quiet_hours", "starts and ends at the same time"),
        ('notfy_min_level = "high"', "teams.harriers.notfy_min_level", "unknown setting (known here: coaches, devices, name"),
        ("[teams.harriers.thresholds.sesion_spike]\nhigh = 2.5", "teams.harriers.thresholds", "unknown rule 'sesion_spike'"),
        ("[teams.harriers.thresholds.session_spike]\nhihg = 2.5", "teams.harriers.thresholds",
         "session_spike: unknown field 'hihg'"),
        ('[teams.harriers.thresholds.session_spike]\nhigh = "2.5"', "teams.harriers.thresholds", "expected <class 'float'>"),
    ],
)  # fmt: skip
def test_a_mistake_names_file_path_and_problem(tmp_path: Path, settings: str, path: str, problem: str) -> None:
    file = team_file(tmp_path, settings)
    error = load_error(file)
    assert error.file == str(file)
    assert [p for p, _ in error.problems] == [path]
    assert str(error).startswith(f"{file}: {path}: ")
    assert problem in str(error)


@pytest.mark.parametrize(
    ("notify", "problem"),
    [
        ('"slack://bad"', "apprise cannot use this slack:// URL: An invalid Slack (second) Token"),
        ('"mailtoo://coach@example.org"', "mailtoo:// is not a notification service apprise knows"),
        ('"coach@example.org"', "not a URL"),
        ('"mailto://127.0.0.1:2525?from=alerts@example.com&to=coach@example.com&mode=tls-ish"',
         "apprise cannot use this mailto:// URL: The secure mode specified (tls-ish) is invalid"),
    ],
)  # fmt: skip
def test_a_bad_notification_url_fails_at_start_up(tmp_path: Path, notify: str, problem: str) -> None:
    error = load_error(team_file(tmp_path, notify=f'"{HOOK}", {notify}'))
    assert error.problems == [("teams.harriers.coaches[0].notify[1]", error.problems[0][1])]
    assert problem in error.problems[0][1]


@pytest.mark.parametrize(
    ("text", "path", "problem"),
    [
        ('[teams."bad id!"]\nname = "x"', 'teams."bad id!"', "team id 'bad id!' must be 1-64 characters"),
        (f"[teams.{'a' * 65}]", "teams." + "a" * 65, "must be 1-64 characters"),
        ('[defaults]\ntimezone = "Mars/Olympus"', "defaults.timezone", "unknown time zone"),
        ("[[defaults.coaches]]\nname = 'Sam'\nnotify = ['json://x.example.org']", "defaults.coaches",
         "coaches is set per team"),
        ('[teams.harriers]\n[[teams.harriers.coaches]]\nnotify = ["json://x.example.org"]', "teams.harriers.coaches[0].name",
         "Field required"),
        ('[teams.harriers]\n[[teams.harriers.coaches]]\nname = "Sam"\nnotify = []', "teams.harriers.coaches[0].notify",
         "at least 1 item"),
        ("[team.harriers]", "team", "unknown setting (known here: defaults, teams)"),
    ],
)  # fmt: skip
def test_structural_mistakes(tmp_path: Path, text: str, path: str, problem: str) -> None:
    error = load_error(write(tmp_path, text))
    assert [p for p, _ in error.problems] == [path]
    assert problem in error.problems[0][1]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    error = load_error(team_file(tmp_path, 'timezone = "Nowhere/Town"\nquiet_hours = "late"', notify='"slack://bad"'))
    assert sorted(p for p, _ in error.problems) == [
        "teams.harriers.coaches[0].notify[0]", "teams.harriers.quiet_hours", "teams.harriers.timezone"]  # fmt: skip
    assert len(str(error).splitlines()) == 3


def test_thresholds_that_conflict_only_once_merged(tmp_path: Path) -> None:
    path = team_file(
        tmp_path,
        "[teams.harriers.thresholds.session_spike]\nhigh = 1.7\n",  # over the default moderate 1.5
        defaults="[defaults.thresholds.session_spike]\nmoderate = 1.8\n",  # under the default high 2.0
    )
    (problem,) = load_error(path).problems
    assert problem[0] == "teams.harriers.thresholds"
    assert "session_spike" in problem[1] and "[defaults.thresholds] merged in" in problem[1]


def test_unreadable_or_invalid_toml(tmp_path: Path) -> None:
    assert "cannot read the file" in str(load_error(tmp_path / "missing.toml"))
    assert "not valid TOML" in str(load_error(write(tmp_path, "[teams.harriers\nname = 1")))


def test_env_vars_are_expanded_to_check_and_kept_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "mailto://alerts:${SW_SMTP_PASSWORD}@${SW_SMTP_HOST}:2525?from=alerts@example.com&to=coach@example.com"
    path = team_file(tmp_path, notify=f'"{url}"')
    error = load_error(path)
    assert error.problems[0][1] == "environment variables SW_SMTP_HOST, SW_SMTP_PASSWORD are not set"
    monkeypatch.setenv("SW_SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("SW_SMTP_HOST", "127.0.0.1")
    assert TeamsConfig.load(path).team("harriers").targets == (url,)
    assert expand_env(url).startswith("mailto://alerts:s3cret-pw@127.0.0.1:2525?")
    assert expand_env("json://${A}/x${B}", {"A": "h.example.org", "B": "1"}) == "json://h.example.org/x1"
    assert expand_env("json://host/$HOME/x") == "json://host/$HOME/x"  # only ${NAME} is expanded


def test_repr_and_errors_hide_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_SMTP_PASSWORD", "s3cret-pw")
    literal = "mailto://alerts:literal-pw@smtp.example.org?to=coach@example.org"
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#coaches"
    env = "mailto://alerts:${SW_SMTP_PASSWORD}@smtp.example.org?to=coach@example.org"
    config = TeamsConfig.load(team_file(tmp_path, notify=f'"{literal}", "{slack}", "{env}"'))
    shown = repr(config) + repr(config.team("harriers")) + str(config.team("harriers").coaches)
    for secret in ("literal-pw", "s3cret-pw", "TIiajkdnlazkcOXrIdevi7FQ", "T1JJ3T3L2", "SW_SMTP_PASSWORD"):
        assert secret.lower() not in shown.lower()
    assert "mailto://smtp.example.org" in shown and "slack://***" in shown
    # An apprise complaint about a URL never repeats its password.
    bad = "mailto://alerts:${SW_SMTP_PASSWORD}@smtp.example.org?to=coach@example.org&mode=s3cret-pw"
    error = load_error(team_file(tmp_path, notify=f'"{bad}"'))
    assert "s3cret-pw" not in str(error) and "mode specified (***)" in str(error)


def test_target_label_shows_scheme_and_host_only() -> None:
    assert target_label("mailtos://user:pw@smtp.example.org:465?to=a@b.org") == "mailtos://smtp.example.org:465"
    assert target_label("json://127.0.0.1:8080/hook?x=1") == "json://127.0.0.1:8080"
    assert target_label("ntfy://my-secret-topic") == "ntfy://***"
    assert target_label("tgram://123456:AAbbCC/987") == "tgram://***"


def test_unknown_team_gets_defaults_no_coaches_and_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = TeamsConfig.load(team_file(tmp_path, defaults='timezone = "Europe/London"\nnotify_min_level = "low"'))
    with caplog.at_level(logging.WARNING, logger="stridewatch.teams"):
        first, again = config.team("rovers"), config.team("rovers")
    assert first == again
    assert (first.team_id, first.name, first.timezone, first.configured) == ("rovers", "rovers", LONDON, False)
    assert first.coaches == () and not first.notifies("critical")
    assert [r.getMessage() for r in caplog.records] == [
        "team not in the teams file: scored with [defaults], nobody notified"]  # fmt: skip


def test_without_a_file_every_team_is_accepted_and_nobody_notified(caplog: pytest.LogCaptureFixture) -> None:
    config = TeamsConfig.default()
    with caplog.at_level(logging.WARNING):
        team = config.team("anyone")
    assert team.thresholds == DEFAULT_THRESHOLDS and team.targets == () and not team.notifies("critical")
    assert caplog.records == []


def test_notify_min_level(tmp_path: Path) -> None:
    team = TeamsConfig.load(team_file(tmp_path, 'notify_min_level = "moderate"')).team("harriers")
    assert [team.notifies(level) for level in ("low", "moderate", "high", "critical")] == [False, True, True, True]


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp() * 1000)


def test_quiet_hours_hold_until_their_end_except_critical(tmp_path: Path) -> None:
    team = TeamsConfig.load(team_file(tmp_path, 'timezone = "Europe/London"\nquiet_hours = "22:00-07:00"')).team(
        "harriers"
    )
    assert team.hold_until(at("2026-01-15 21:59"), "high") is None
    assert team.hold_until(at("2026-01-15 22:00"), "high") == at("2026-01-16 07:00")
    assert team.hold_until(at("2026-01-16 03:00"), "moderate") == at("2026-01-16 07:00")
    assert team.hold_until(at("2026-01-16 07:00"), "high") is None
    assert team.hold_until(at("2026-01-15 23:00"), "critical") is None
    # Across the spring DST change the end is still 07:00 local.
    assert team.hold_until(at("2026-03-28 23:00"), "high") == at("2026-03-29 07:00")
    daytime = QuietHours.parse("9:00-17:30")
    assert daytime.release_at(at("2026-01-15 12:00"), LONDON) == at("2026-01-15 17:30")
    assert daytime.release_at(at("2026-01-15 18:00"), LONDON) is None


def test_docstring_examples_run() -> None:
    assert doctest.testmod(stridewatch.teams).failed == 0
