"""`stridewatch import` with team logs: told from recordings and watch files by content, stored once."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ingest.store import Store
from stridewatch.cli import app
from stridewatch.tools.importing import prepare
from tests.unit.imports.files import GOOD_RUNS
from tests.unit.imu.truth import COPIED as RECORDINGS
from tests.unit.ingest.team_log_files import INJURY, P12, SRPE, TEAM_INJURY


def stored(db_url: str, team: str) -> dict[str, list[tuple[Any, ...]]]:
    with Store(db_url) as store:
        return {
            "sessions": store.query(
                "SELECT athlete, device, session_id, activity, start_ts, end_ts, duration_s "
                "FROM sessions WHERE team = ? ORDER BY 1, 2, 3",
                (team,),
            ),
            "wellness": store.query(
                "SELECT athlete, device, ts, note FROM wellness WHERE team = ? ORDER BY 1, 2, 3", (team,)
            ),
            "pain": store.query(
                "SELECT athlete, ts, idx, site, side, score, kind FROM pain WHERE team = ? ORDER BY 1, 2, 3", (team,)
            ),
            "dead": store.query("SELECT reason FROM dead_letters"),
        }


def test_a_recording_a_watch_file_and_team_logs_in_one_import_each_read_as_what_it_is() -> None:
    result = prepare([RECORDINGS[0], GOOD_RUNS[0], SRPE, INJURY], team="t", athlete="p12")
    recording, watch, srpe, injury = result.files
    assert recording.team_log is None and recording.sessions[0].cadence == "detected from raw acceleration"
    assert watch.team_log is None and watch.sessions[0].imported
    assert srpe.team_log is not None and srpe.team_log.format == "pmsys-srpe" and not srpe.sessions
    assert injury.team_log is not None and injury.team_log.pain_reports == 48
    assert result.totals()["sessions"] == 2 + srpe.team_log.sessions
    starts = [m.ts for m in result.messages if m.stream == "session" and json.loads(m.payload)["event"] == "start"]
    assert starts == sorted(starts)  # the files' sessions interleaved in the order they happened


def test_watch_files_need_the_athlete_and_other_csv_and_json_files_are_skipped(tmp_path: Path) -> None:
    """As in SoccerMon's folder, whose illness.csv is none of the formats."""
    settings, illness = tmp_path / "settings.json", tmp_path / "illness.csv"
    settings.write_text('{"units": "metric"}')
    illness.write_text('player_name,problems,timestamp\nTeamA-1,"[""fever""]",01.02.2020\n')
    watch, json_file, csv_file, srpe = prepare([GOOD_RUNS[0], settings, illness, SRPE], team="t").files
    assert watch.status == "failed" and watch.error is not None and "give --athlete" in watch.error
    assert json_file.status == "skipped" and json_file.error == f"{settings}: not a Fitbit exercise log"
    assert csv_file.status == "skipped" and csv_file.error is not None and csv_file.error.endswith("nor a team log")
    assert srpe.status == "imported"


def test_the_command_stores_the_sessions_and_pain_reports_once(tmp_path: Path) -> None:
    team = f"tl-{time.time_ns()}"
    db = f"sqlite:///{tmp_path}/stridewatch.db"

    def run() -> dict[str, Any]:
        done = CliRunner().invoke(app, ["import", "--team", team, str(P12 / "pmsys"), str(TEAM_INJURY), "--db", db,
                                        "--json", "-q"])  # fmt: skip
        assert done.exit_code == 0, done.output
        return dict(json.loads(done.stdout))

    report = run()
    rows = stored(db, team)
    counts = {f["team_log"]["format"]: f["team_log"] for f in report["files"]}
    assert counts.keys() == {"pmsys-srpe", "pmsys-wellness", "pmsys-injury", "injury-list"}
    assert len(rows["sessions"]) == counts["pmsys-srpe"]["sessions"] == report["totals"]["sessions"] > 0
    assert {(a, d) for a, d, *_ in rows["sessions"]} == {("p12", "pmsys")}
    assert all(end is not None and duration > 0 for *_, end, duration in rows["sessions"])
    reports = sum(c["pain_reports"] for c in counts.values())
    assert len(rows["wellness"]) == reports == report["totals"]["pain_reports"] > 0
    assert len({a for a, *_ in rows["wellness"]}) == 1 + 15  # p12 and the team list's players
    assert rows["dead"] == []
    assert run()["totals"] == report["totals"]
    assert stored(db, team) == rows  # nothing new
