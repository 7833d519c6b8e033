"""`stridewatch cohort` then `stridewatch validate`: the table, JSON, plot and suggested thresholds."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stridewatch.cli import app
from stridewatch.teams import TeamsConfig
from stridewatch.tools.stories import story_failures

pytestmark = pytest.mark.integration


# The day the cohort's history ends: fixed, so the squad and every figure measured on it are the
# same whatever day the suite runs (2026-12-06 ended the squad whose plot once crashed).
END = date(2026, 12, 6)


def store_cohort(db: str, end: date, *, athletes: int = 40, days: int = 100) -> None:
    stored = CliRunner().invoke(app, ["cohort", "--db", db, "--athletes", str(athletes), "--days", str(days),
                                      "--team-count", "2", "--end", end.isoformat(), "-q"])  # fmt: skip
    assert stored.exit_code == 0, stored.output
    assert f"to {end.isoformat()}" in stored.stdout


def test_validate_a_stored_cohort(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cohort.db"
    runner = CliRunner()
    store_cohort(db, END)

    as_json = runner.invoke(app, ["validate", "--db", db, "--json", "--draws", "50", "-q"])
    assert as_json.exit_code == 0, as_json.output
    teams = json.loads(as_json.stdout)
    assert [t["team"] for t in teams] == ["cohort-00", "cohort-01"]
    for team in teams:
        assert team["athletes"] == 20 and team["horizon_days"] == 14
        longest = [r for r in team["rules"] if r["rule"] == "longest_session"]
        assert longest and all(0 <= r["precision"] <= 1 and r["verdict"] for r in longest if r["raises"])

    plot, suggest = tmp_path / "rules.png", tmp_path / "suggested.toml"
    shown = runner.invoke(app, ["validate", "--db", db, "--team", "cohort-01", "--draws", "50", "--plot", str(plot),
                                "--suggest", str(suggest), "-q"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "cohort-01: does each rule warn before pain?" in shown.stdout and "cohort-00" not in shown.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    text = suggest.read_text()
    config = TeamsConfig.load(suggest)  # what teams.toml accepts
    assert set(tomllib.loads(text).get("teams", {})) <= {"cohort-01"}
    for before, after in re.findall(r"# raises (\d+) -> (\d+)", text):
        assert int(after) < int(before)
    assert story_failures(config.team("cohort-01").thresholds) == []


def test_validate_on_an_outcome_the_team_never_had_says_so_and_suggests_nothing(tmp_path: Path) -> None:
    # The cohort's soreness is mild (1-3/10): as outcomes there are none. Once 0/0 filled the table
    # and --suggest proposed muting longest_session.
    db = f"sqlite:///{tmp_path}/cohort.db"
    store_cohort(db, END)
    runner = CliRunner()
    plot, suggest = tmp_path / "rules.png", tmp_path / "suggested.toml"
    shown = runner.invoke(app, ["validate", "--db", db, "--outcome", "soreness", "--draws", "30", "--plot", str(plot),
                                "--suggest", str(suggest), "-q"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.strip().splitlines()
    assert len(lines) == 2 and all("no soreness episodes in the data" in line for line in lines), lines
    assert "0/0" not in shown.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "[teams." not in suggest.read_text() and tomllib.loads(suggest.read_text()) == {}

    injuries = runner.invoke(app, ["validate", "--db", db, "--outcome", "injury", "--json", "--draws", "30", "-q"])
    assert injuries.exit_code == 0, injuries.output
    for team in json.loads(injuries.stdout):
        assert team["outcome"] == "injury" and team["episodes"] > 0
        for row in team["rules"]:
            if row["relative_risk"] is not None and row["rr_low"] is not None:
                assert row["rr_low"] <= row["relative_risk"] and (
                    row["rr_high"] is None or row["relative_risk"] <= row["rr_high"]
                )


def test_validate_says_when_there_is_nothing_to_measure(tmp_path: Path) -> None:
    empty = CliRunner().invoke(app, ["validate", "--db", f"sqlite:///{tmp_path}/empty.db", "-q"])
    assert empty.exit_code == 1 and "no session features or pain reports" in empty.output


@pytest.mark.parametrize("end", [END + timedelta(days=d) for d in range(-13, 1)], ids=str)
def test_cohort_and_validate_hold_on_any_end_date(tmp_path: Path, end: date) -> None:
    """Weekdays and calendar shift the simulated squad with its end date: each of 14 in a row is measured
    and drawn, and the table and the JSON agree."""
    db = f"sqlite:///{tmp_path}/cohort.db"
    store_cohort(db, end, athletes=24, days=70)
    plot = tmp_path / "rules.png"
    runner = CliRunner()
    shown = runner.invoke(app, ["validate", "--db", db, "--json", "--draws", "30", "--plot", str(plot), "-q"])
    assert shown.exit_code == 0, shown.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for team in json.loads(shown.stdout):
        for row in team["rules"]:
            if row["raises"]:
                assert row["precision_low"] <= row["precision"] <= row["precision_high"], row
