"""Team logs (tests/data/teamlogs, see its README) into contract messages: what the files hold, read here
straight with the csv and json modules, is what the messages carry."""

from __future__ import annotations

import ast
import csv
import functools
import json
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.files.model import FileError
from ingest.files.teamlogs import TeamLog, read_team_log
from ingest.message import Message
from ingest.records import DeadLetterRow, to_record
from tests.unit.imports.files import GOOD_RUNS
from tests.unit.imu.truth import COPIED as RECORDINGS
from tests.unit.ingest.team_log_files import ALL, DAILY_LOAD, EXERCISE, INJURY, SORENESS, SRPE, TEAM_INJURY, WELLNESS


def read(path: Path, **options: Any) -> TeamLog:
    log = read_team_log(path, team="club", **options)
    assert log is not None, f"{path} not read as a team log"
    return log


@functools.cache
def logged(path: Path) -> TeamLog:
    """``path`` read with the defaults, once for all the tests (a season's log makes many messages)."""
    return read(path)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def bodies(log: TeamLog, stream: str) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in log.messages if m.stream == stream]


def ends(log: TeamLog) -> list[dict[str, Any]]:
    return [b for b in bodies(log, "session") if b["event"] == "end"]


def athlete(message: Message) -> str:
    return message.topic.split("/")[3]


def test_pmsys_srpe_sessions_carry_the_files_rpe_and_minutes() -> None:
    rated = [r for r in rows(SRPE) if r["perceived_exertion"]]
    log = logged(SRPE)
    sessions = ends(log)
    assert len(sessions) == log.counts.sessions == len(rated) == 40
    load = sum(float(r["perceived_exertion"]) * float(r["duration_min"]) for r in rated)
    assert sum(s["rpe"] * s["duration_s"] / 60 for s in sessions) == pytest.approx(load)
    assert log.counts.srpe_load == pytest.approx(load)
    assert {s["session_id"] for s in sessions} == {b["session_id"] for b in bodies(log, "session")}
    assert len({s["session_id"] for s in sessions}) == 40
    assert not [m for m in log.messages if m.stream == "steps"]
    runs = sum("running" in ast.literal_eval(r["activity_names"]) for r in rated)
    assert Counter(b.get("activity") for b in bodies(log, "session") if b["event"] == "start")["run"] == runs
    assert {athlete(m) for m in log.messages} == {"p12"}  # the participant folder
    first = rated[0]  # 2019-11-17T10:10:54.074Z, strength, RPE 7, 120 min: started 2 h before it was logged
    start = datetime.fromisoformat(first["end_date_time"]).timestamp() * 1000 - 120 * 60_000
    assert bodies(log, "session")[0] == {"session_id": sessions[0]["session_id"], "event": "start", "ts": start,
                                         "activity": "strength"}  # fmt: skip


SCORE = {1: 5, 2: 2}  # soreness 1 and 2; 3 (as usual) to 5 are no report


def test_pmsys_soreness_of_1_or_2_becomes_pain() -> None:
    sore = [r for r in rows(WELLNESS) if 1 <= int(r["soreness"]) <= 2]
    log = logged(WELLNESS)
    reports = bodies(log, "wellness")
    assert len(reports) == log.counts.pain_reports == len(sore) > 20
    for row, report in zip(sore, reports, strict=True):
        assert {p["score"] for p in report["pain"]} == {SCORE[int(row["soreness"])]}
        assert {p["kind"] for p in report["pain"]} == {"soreness"}
        assert report["note"].startswith("from a PMSys wellness report")
    # 2019-11-20: soreness 2 at SNOMED CT 48979004, 32696007 and 368208006: left and right lower leg, left upper arm.
    (legs,) = [w for r, w in zip(sore, reports, strict=True) if r["effective_time_frame"].startswith("2019-11-20")]
    assert [(p["site"], p["side"], p["score"]) for p in legs["pain"]] == [("shin", "L", 2), ("shin", "R", 2),
                                                                            ("other", "L", 2)]  # fmt: skip


def test_pmsys_injuries_are_pain_reports_part_by_part() -> None:
    named = [ast.literal_eval(r["injuries"]) for r in rows(INJURY)]
    named = [n for n in named if n]
    log = logged(INJURY)
    reports = bodies(log, "wellness")
    assert len(reports) == log.counts.pain_reports == log.counts.injuries == len(named) == 48
    assert [len(r["pain"]) for r in reports] == [len(n) for n in named]
    assert reports[0]["pain"] == [{"site": "knee", "side": "R", "score": 5, "kind": "ache"}]  # right_knee: minor


def test_a_teams_injury_list_repeats_of_a_day_are_one_report() -> None:
    table = [r for r in rows(TEAM_INJURY) if json.loads(r["type"])]
    days: dict[tuple[str, str], dict[str, str]] = {}
    for r in table:
        days.setdefault((r["player_name"], r["timestamp"]), {}).update(json.loads(r["type"]))
    log = logged(TEAM_INJURY)
    reports = [(athlete(m), json.loads(m.payload)) for m in log.messages]
    assert log.counts.injuries == len(table) == 162
    assert len(reports) == log.counts.pain_reports == len(days)
    assert {a for a, _ in reports} == {r["player_name"] for r in table}
    assert sum(len(r["pain"]) for _, r in reports) == sum(len(parts) for parts in days.values())
    severities = Counter(level for parts in days.values() for level in parts.values())
    scores = Counter(p["score"] for _, r in reports for p in r["pain"])
    assert scores == {5: severities["minor"], 8: severities["major"]}
    sharp = Counter(p["kind"] for _, r in reports for p in r["pain"])
    assert sharp["sharp"] == severities["major"] > 0


def test_a_daily_load_is_one_session_whose_rpe_times_minutes_is_the_load() -> None:
    with DAILY_LOAD.open(newline="") as f:
        header, *table = list(csv.reader(f))
    loads = {(player, row[0]): float(cell) for row in table for player, cell in zip(header[1:], row[1:], strict=True)
             if float(cell) > 0}  # fmt: skip
    log = logged(DAILY_LOAD)
    sessions = [(athlete(m), json.loads(m.payload)) for m in log.messages if json.loads(m.payload)["event"] == "end"]
    assert len(sessions) == log.counts.sessions == len(loads) > 1000
    assert sum(s["rpe"] * s["duration_s"] / 60 for _, s in sessions) == pytest.approx(sum(loads.values()))
    assert log.counts.srpe_load == pytest.approx(sum(loads.values()))
    for player, s in sessions:
        day = datetime.strptime(s["session_id"].removeprefix("load-"), "%Y%m%d").strftime("%d.%m.%Y")
        assert s["rpe"] * s["duration_s"] / 60 == pytest.approx(loads[player, day])
    assert log.counts.athletes == len(header) - 1


def test_daily_soreness_cells_of_1_or_2_are_pain_reports() -> None:
    with SORENESS.open(newline="") as f:
        table = list(csv.reader(f))[1:]
    sore = [float(cell) for row in table for cell in row[1:] if cell and float(cell) <= 2]
    log = logged(SORENESS)
    reports = bodies(log, "wellness")
    assert len(reports) == log.counts.pain_reports == len(sore) > 20
    assert Counter(r["pain"][0]["score"] for r in reports) == Counter(SCORE[int(s)] for s in sore)
    assert all(r["pain"] == [{"site": "other", "side": "both", "score": r["pain"][0]["score"], "kind": "soreness"}]
               for r in reports)  # fmt: skip


def test_fitbit_runs_and_walks_with_their_steps_spread_evenly() -> None:
    entries = json.loads(EXERCISE.read_text())
    kept = [e for e in entries if e["activityName"] in ("Run", "Walk", "Treadmill") and e.get("steps", 0) > 0]
    log = logged(EXERCISE)
    assert log.counts.sessions == len(ends(log)) == len(kept) > 50
    assert log.counts.skipped == len(entries) - len(kept)
    batches = bodies(log, "steps")
    assert sum(len(b["steps"]) for b in batches) == log.counts.steps == sum(e["steps"] for e in kept)
    assert sum(m.steps for m in log.messages) == log.counts.steps
    assert log.counts.distance_m == pytest.approx(sum(e.get("distance", 0) for e in kept) * 1000, abs=1)
    assert sum(s["duration_s"] for s in ends(log)) == pytest.approx(sum(e["activeDuration"] for e in kept) / 1000)
    for b in batches:
        assert len(b["steps"]) <= 500 and b["cadence_source"] == "estimated"
        assert b["seq"] == b["steps"][0]["ts"]
    run = next(e for e in kept if e["activityName"] == "Run")  # 3,584 steps in 24.75 active minutes
    steps = [s for b in batches if b["session_id"].endswith(str(run["logId"])) for s in b["steps"]]
    assert len(steps) == run["steps"]
    assert [s["foot"] for s in steps[:4]] == ["L", "R", "L", "R"]
    assert steps[0]["cadence_spm"] == pytest.approx(run["steps"] / (run["activeDuration"] / 60_000), rel=1e-3)
    assert steps[0]["ts"] == datetime.fromisoformat(run["startTime"] + "+00:00").timestamp() * 1000


def test_fitbit_local_times_are_taken_in_the_zone_given() -> None:
    utc, oslo = logged(EXERCISE), read(EXERCISE, tz=ZoneInfo("Europe/Oslo"))
    assert [m.ts - 3_600_000 for m in utc.messages[:3]] == [m.ts for m in oslo.messages[:3]]  # November: UTC+1


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_message_passes_the_contract_and_importing_again_sends_the_same(path: Path) -> None:
    log = logged(path)
    assert log.messages
    records = [to_record(m.topic, m.payload, now_ms=2**52, max_future_ms=0) for m in log.messages]
    assert not [r for r in records if isinstance(r, DeadLetterRow)]
    assert [m.ts for m in log.messages] == sorted(m.ts for m in log.messages)
    assert read(path).messages == log.messages
    wellness = [(m.topic, m.ts) for m in log.messages if m.stream == "wellness"]
    assert len(set(wellness)) == len(wellness)  # the store keys a report by its time: none may collide


def test_the_athlete_given_overrides_the_participant_folder_and_one_is_needed(tmp_path: Path) -> None:
    assert {athlete(m) for m in read(SRPE, athlete="runner-7").messages} == {"runner-7"}
    loose = tmp_path / "exports" / "log.csv"
    loose.parent.mkdir()
    shutil.copy(SRPE, loose)
    with pytest.raises(FileError, match="Give --athlete"):
        read_team_log(loose, team="club")


def test_formats_are_told_by_content_not_by_name(tmp_path: Path) -> None:
    """Renamed team logs are still read as what they are; recordings and watch files are not team logs."""
    for source, fmt in ((SRPE, "pmsys-srpe"), (WELLNESS, "pmsys-wellness"), (INJURY, "pmsys-injury"),
                        (EXERCISE, "fitbit-exercise"), (TEAM_INJURY, "injury-list"), (SORENESS, "daily-soreness"),
                        (DAILY_LOAD, "daily-load")):  # fmt: skip
        renamed = tmp_path / "p03" / f"{fmt}-export.txt"
        renamed.parent.mkdir(exist_ok=True)
        shutil.copy(source, renamed)
        assert read(renamed).counts.format == fmt
    for other in (*RECORDINGS, *GOOD_RUNS):
        assert read_team_log(other, team="club", athlete="a") is None
    illness = tmp_path / "illness.csv"
    illness.write_text('player_name,problems,timestamp\nTeamA-1,"[""fever""]",01.02.2020\n')
    assert read_team_log(illness, team="club") is None


def test_rows_with_nothing_logged_are_skipped_and_counted(tmp_path: Path) -> None:
    """As PMData has them: p16's srpe.csv holds rows without RPE or minutes; p05 sent two wellness forms of 0s."""
    srpe, wellness = tmp_path / "p16" / "srpe.csv", tmp_path / "p05" / "wellness.csv"
    for copy, source, extra in ((srpe, SRPE, "2019-11-18T13:34:02.327Z, {},,\n"),
                                (wellness, WELLNESS, "2019-12-12T10:50:32.079Z,0,0,0,0,0,0,[],0\n")):  # fmt: skip
        copy.parent.mkdir()
        copy.write_text(source.read_text() + extra)
    assert (read(srpe).counts.sessions, read(srpe).counts.skipped) == (len(rows(SRPE)), 1)
    assert read(srpe).counts.notes == {"neither RPE nor minutes logged": 1}
    sore = sum(1 <= int(r["soreness"]) <= 2 for r in rows(WELLNESS))
    assert (read(wellness).counts.pain_reports, read(wellness).counts.skipped) == (sore, 1)


def _broken(tmp_path: Path, source: Path, line: int, old: str, new: str) -> Path:
    """A copy of ``source`` in a p01 folder with ``old`` replaced by ``new`` on its ``line`` (1 = the header)."""
    lines = source.read_bytes().decode().split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    copy = tmp_path / "p01" / "pmsys" / f"bad-{source.name}"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text("\n".join(lines))
    return copy


@pytest.mark.parametrize(
    ("source", "line", "old", "new", "problem"),
    [
        (SRPE, 3, ",7,50", ",seven,50", "row 3: perceived_exertion 'seven' is not a number"),
        (SRPE, 4, ",5,50", ",11,50", "row 4: perceived_exertion '11' is not within 0 to 10"),
        (WELLNESS, 5, "2019-11-19T", "2019-13-19T", "row 5: effective_time_frame '2019-13-19T"),
        (INJURY, 2, "'minor'", "'severe'", "row 2: right_knee: 'severe' is neither minor nor major"),
        (TEAM_INJURY, 3, "20.03.2020", "31.02.2020", "row 3: timestamp '31.02.2020' is not a dd.mm.yyyy date"),
        (DAILY_LOAD, 14, "540.0", "5 40", "row 14: load '5 40' is not a number"),
        (DAILY_LOAD, 14, "13.01.2020", "2020-01-13", "row 14: the date '2020-01-13' is not a dd.mm.yyyy date"),
        (SORENESS, 11, "4.0", "four", "row 11: soreness 'four' is not a number"),
        (EXERCISE, 1, '"startTime": "2019-11-09 08:30:45"', '"startTime": "9 Nov"', "entry 2: startTime '9 Nov'"),
    ],
    ids=[
        "srpe-number",
        "srpe-range",
        "wellness-date",
        "injury-severity",
        "team-injury-date",
        "load-number",
        "load-date",
        "soreness-number",
        "fitbit-time",
    ],
)
def test_a_malformed_row_is_refused_by_name(
    tmp_path: Path, source: Path, line: int, old: str, new: str, problem: str
) -> None:
    broken = _broken(tmp_path, source, line, old, new)
    with pytest.raises(FileError) as caught:
        read_team_log(broken, team="club")
    assert str(caught.value).startswith(f"{broken}: {problem}")
