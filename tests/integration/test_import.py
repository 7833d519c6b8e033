"""`stridewatch import` end to end: straight to the store and through a broker, the same rows, stored once."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ingest.consumer import Consumer
from ingest.store import Store
from stridewatch.cli import app
from tests.mqtt_helpers import wait_until
from tests.unit.imports.files import MALFORMED, REAL
from tests.unit.imu.truth import COPIED as RECORDINGS

pytestmark = pytest.mark.integration
FEW = (REAL / "tcx" / "run_garmin.tcx", REAL / "fit" / "garmin-fenix-5-run.fit", REAL / "fit" / "nick.fit")


def stored(db_url: str, team: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The team's step batches and sessions, every column but the arrival time."""
    with Store(db_url) as store:
        store.migrate()
        batches = store.query(
            "SELECT athlete, device, seq, session_id, first_ts, last_ts, n_steps, n_impact, data FROM step_batches "
            "WHERE team = ? ORDER BY device, seq",
            (team,),
        )
        sessions = store.query(
            "SELECT athlete, device, session_id, activity, surface, shoe_id, placement, start_ts, end_ts, duration_s, "
            "distance_m, first_step_ts, last_step_ts FROM sessions WHERE team = ? ORDER BY session_id",
            (team,),
        )
    return [(*row[:-1], bytes(row[-1])) for row in batches], [tuple(row) for row in sessions]


def run_import(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["import", *map(str, args), "--athlete", "runner", "--json", "-q"])
    return result.exit_code, json.loads(result.stdout)


def test_a_folder_into_the_store_once_with_the_bad_files_named(db_url: str) -> None:
    team = f"imp-{time.time_ns()}"
    code, report = run_import(REAL, "--team", team, "--db", db_url)
    assert code == 1  # two files are broken
    assert {Path(f["path"]).name for f in report["files"] if f["status"] == "failed"} == {p.name for p in MALFORMED}
    totals = report["totals"]
    batches, sessions = stored(db_url, team)
    assert len(sessions) == totals["sessions"] > 5
    assert sum(b[6] for b in batches) == totals["steps"]
    assert all(s[8] is not None and s[9] > 0 for s in sessions)  # every session ended, with its duration
    again_code, again = run_import(REAL, "--team", team, "--db", db_url)
    assert again_code == 1 and again["totals"] == totals
    assert stored(db_url, team) == (batches, sessions)  # nothing new


def test_through_the_broker_the_same_rows_as_straight_to_the_store(
    broker: Any, consumer: Consumer, tmp_path: Path
) -> None:
    team = f"imp-{time.time_ns()}"
    code, report = run_import(*FEW, "--team", team, "--mqtt-url", broker.url)
    assert code == 1 and report["totals"]["failed"] == 1  # nick.fit
    steps, n_sessions = report["totals"]["steps"], report["totals"]["sessions"]

    def done() -> bool:
        batches, sessions = stored(consumer.config.db_url, team)
        return bool(sum(b[6] for b in batches) == steps and sum(s[8] is not None for s in sessions) == n_sessions)

    wait_until(done, timeout=60, what=f"{steps} imported steps stored by the consumer")
    direct = f"sqlite:///{tmp_path}/direct.db"
    run_import(*FEW, "--team", team, "--db", direct)
    assert stored(consumer.config.db_url, team) == stored(direct, team)

    committed = consumer.health.stored + consumer.health.dead_letters
    run_import(*FEW, "--team", team, "--mqtt-url", broker.url)  # again: redelivered, stored once
    wait_until(lambda: consumer.health.stored + consumer.health.dead_letters >= committed + report["totals"]["messages"],
               timeout=60, what="the second import committed")  # fmt: skip
    assert stored(consumer.config.db_url, team) == stored(direct, team)


def test_a_raw_recording_is_detected_by_the_server_as_the_report_says(
    broker: Any, consumer: Consumer, tmp_path: Path
) -> None:
    """A phone recording (Oxford set) through the broker and straight to the store: the same steps, as reported."""
    team = f"imp-raw-{time.time_ns()}"
    recording = RECORDINGS[0]
    direct = f"sqlite:///{tmp_path}/direct.db"
    code, report = run_import(recording, "--team", team, "--db", direct)
    assert code == 0
    (session,) = report["files"][0]["sessions"]
    assert session["cadence"] == "detected from raw acceleration" and session["steps"] > 300
    assert sum(b[6] for b in stored(direct, team)[0]) == session["steps"] == report["totals"]["steps"]
    code, _ = run_import(recording, "--team", team, "--mqtt-url", broker.url)
    assert code == 0

    def done() -> bool:
        batches, sessions = stored(consumer.config.db_url, team)
        return sum(b[6] for b in batches) == session["steps"] and sessions[0][8] is not None

    wait_until(done, timeout=60, what=f"{session['steps']} detected steps stored by the consumer")
    assert stored(consumer.config.db_url, team) == stored(direct, team)
