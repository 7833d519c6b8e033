"""Team training logs (PMSys, Fitbit, SoccerMon-style tables) -> the contract's session and wellness messages.

Teams without pods log what their athletes tell them: session RPE and minutes, a morning
soreness score, injuries. `read_team_log` tells the formats apart by content (a CSV's
header, a JSON file's shape; never the file's name) and returns the messages with what
the file held, or None for any other file (a watch file, an accelerometer recording):

- PMSys ``srpe.csv`` (``end_date_time``, ``activity_names``, ``perceived_exertion``,
  ``duration_min``): a session ending at ``end_date_time``, its ``end`` carrying ``rpe``;
  no steps. A row with neither RPE nor minutes logged is skipped.
- PMSys ``wellness.csv`` (``effective_time_frame``, ``soreness``, ``soreness_area``): a
  soreness of 1 or 2 (1 = worst, 3 = as usual, 5 = none) is a pain report of score ``SORENESS_SCORES``, at
  the areas ``soreness_area`` names (SNOMED CT body structures, `SORENESS_AREAS`).
- PMSys ``injury.csv`` (``effective_time_frame``, ``injuries``) and a team's injury list
  (``player_name``, ``type``, ``timestamp``; SoccerMon): each body part named minor or
  major is a pain entry (`SEVERITIES`, `body_part`); ``{}`` is no injury.
- Fitbit ``exercise.json`` (a list of activities with ``activityName`` and ``startTime``):
  runs and walks as sessions with their steps, spread evenly over the active time; other
  activities are skipped. ``startTime`` is local time without a zone: ``tz`` says which.
- Wide daily tables (a first column of dd.mm.yyyy dates, under any name, then one column
  per player): a daily load (sRPE, AU) or a daily soreness (1-5). The first column's name
  tells which ("Soreness Data"); a plain ``Date`` table with values above 5 is a load
  table. A day's load becomes one session at RPE `DAILY_LOAD_RPE` lasting load / RPE
  minutes: the load is exact, the duration an estimate.

Soreness is scored and injuries are mapped as the README states ("Team logs"); a row the
scale does not allow, a sport without steps or a session logged twice is skipped and
counted, with why.

PMSys and Fitbit files are one athlete's: ``athlete``, else PMData's participant folder in
the path (`participant`). Team tables name their players (each must be a contract id).
What a day-dated row says is placed at a fixed UTC time of that day: soreness at 08:00 (a
morning report), an injury report at 12:00, a daily load's session from 16:00, after the
day's reports, so a warning raised by that session never counts as preceding them.

Ids come from content, so importing a file again sends the same messages and the store
keeps nothing new: a PMSys session's id is its end time and a digest of its row, a Fitbit
session's its start and Fitbit's ``logId``, a daily load's its day (one session a day); a
wellness report is keyed by its time. A malformed row raises `FileError` naming the file,
the row and the problem.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal, TypeVar

from ingest.files.messages import BATCH_STEPS
from ingest.files.model import FileError, epoch_ms
from ingest.files.plausibility import MAX_CADENCE_SPM, VERY_LONG_S, duplicates
from ingest.message import Message
from ingest.payloads import Activity, Pain, PainSide, PainSite, Placement, SessionEvent, Surface, Wellness
from ingest.topics import Stream, device_topic, is_id

Format = Literal["pmsys-srpe", "pmsys-wellness", "pmsys-injury", "fitbit-exercise", "injury-list", "daily-load",
                 "daily-soreness"]  # fmt: skip
ONE_ATHLETE: frozenset[Format] = frozenset({"pmsys-srpe", "pmsys-wellness", "pmsys-injury", "fitbit-exercise"})
DEVICES: dict[Format, str] = {
    "pmsys-srpe": "pmsys", "pmsys-wellness": "pmsys", "pmsys-injury": "pmsys", "fitbit-exercise": "fitbit",
    "injury-list": "team-log", "daily-load": "team-log", "daily-soreness": "team-log",
}  # fmt: skip
# The columns that tell a CSV's format (lower-cased); the wide daily tables are told by their first column.
HEADERS: dict[Format, frozenset[str]] = {
    "pmsys-srpe": frozenset({"end_date_time", "activity_names", "perceived_exertion", "duration_min"}),
    "pmsys-wellness": frozenset({"effective_time_frame", "soreness"}),
    "pmsys-injury": frozenset({"effective_time_frame", "injuries"}),
    "injury-list": frozenset({"player_name", "type", "timestamp"}),
}

# Soreness, 1 (worst) to 5 (none), as a pain score. 3 is the players' usual answer and 2 nearly
# as common (half and a third of SoccerMon's cells): 3 and better are no report, 2 is kept under
# the pain rules' floors (pain_persistent's 3), or it would keep them raised all season; 1 counts
# as pain (5), under pain_acute's 7 (soreness is no sharp pain).
SORENESS_SCORES: dict[int, int] = {1: 5, 2: 2}
# PMSys soreness areas are SNOMED CT body structures: (site, side, name).
SORENESS_AREAS: dict[int, tuple[PainSite, PainSide, str]] = {
    69536005: ("other", "both", "head"),
    368208006: ("other", "L", "left upper arm"),
    368209003: ("other", "R", "right upper arm"),
    22943007: ("back", "both", "trunk"),
    12921003: ("hip", "both", "pelvis"),
    48979004: ("shin", "L", "left lower leg"),
    32696007: ("shin", "R", "right lower leg"),
}
SEVERITIES: dict[str, tuple[int, Literal["ache", "sharp"]]] = {"minor": (5, "ache"), "major": (8, "sharp")}
# Body parts as injury reports name them (without left_/right_) -> the contract's site; any other is "other"
# (thigh, hamstring, head_neck, shoulder, elbow, hand, chest...). PMSys's "leg" is the lower leg: thigh and knee
# are parts of their own.
BODY_SITES: dict[str, PainSite] = {
    "knee": "knee", "foot": "foot", "ankle": "ankle", "heel": "heel", "achilles": "achilles", "calf": "calf",
    "shin": "shin", "leg": "shin", "lower_leg": "shin", "hip": "hip", "groin": "hip", "groin_hip": "hip",
    "back": "back", "lower_back": "back", "stomach_back": "back",
}  # fmt: skip
# Fitbit's activity names -> the contract's activity and declared surface; the rest are not runs or walks.
FITBIT_ACTIVITIES: dict[str, tuple[Activity, Surface | None]] = {
    "Run": ("run", None), "Treadmill": ("run", "treadmill"), "Walk": ("walk", None),
}  # fmt: skip
DISTANCE_UNITS_M = {"Kilometer": 1000.0, "Mile": 1609.344}
DAILY_LOAD_RPE = 5.0  # a daily load becomes a session at this RPE, lasting load / RPE minutes
SORENESS_AT, INJURY_AT, SESSION_AT = time(8), time(12), time(16)  # UTC, for rows dated by day only
DAY = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
PARTICIPANT = re.compile(r"p\d+")

T = TypeVar("T")


@dataclass
class LogCounts:
    """What a team log held, for the import's table."""

    format: Format
    athletes: int = 0  # with anything imported
    sessions: int = 0
    minutes: float = 0.0
    distance_m: float = 0.0
    steps: int = 0
    srpe_load: float = 0.0  # sum of rpe x minutes, AU
    pain_reports: int = 0  # wellness reports sent
    injuries: int = 0  # injury reports naming an injury (repeats on one day are sent as one pain report)
    skipped: int = 0
    notes: dict[str, int] = field(default_factory=dict)  # why rows were skipped or flagged: how many


@dataclass(frozen=True)
class TeamLog:
    path: Path
    counts: LogCounts
    messages: list[Message]  # in event-time order


class _BadRow(ValueError):
    """A row's problem in plain words; the reader adds the file and the row."""


@dataclass
class _Out:
    """The messages of one file as they are made, and their counts."""

    team: str
    device: str
    counts: LogCounts
    messages: list[Message] = field(default_factory=list)
    athletes: set[str] = field(default_factory=set)

    def session(
        self, athlete: str, sid: str, start_ts: int, end_ts: int, *, activity: Activity, duration_s: float,
        rpe: float | None = None, distance_m: float | None = None, surface: Surface | None = None,
        steps: int = 0,
    ) -> None:  # fmt: skip
        """A session's start, its evenly spread steps (when it has any) and its end carrying ``rpe``."""
        placement: Placement | None = "wrist" if steps else None  # a watch's steps
        start = SessionEvent(session_id=sid, event="start", ts=start_ts, activity=activity, surface=surface,
                             placement=placement)  # fmt: skip
        end = SessionEvent(session_id=sid, event="end", ts=end_ts, duration_s=duration_s, distance_m=distance_m)
        self._send(athlete, "session", _event(start), start_ts)
        if steps:
            self._steps(athlete, sid, start_ts, duration_s * 1000, steps)
        self._send(athlete, "session", _event(end, rpe=rpe), end_ts)
        self.counts.sessions += 1
        self.counts.minutes += duration_s / 60
        self.counts.distance_m += distance_m or 0.0
        self.counts.srpe_load += (rpe or 0.0) * duration_s / 60
        self.counts.steps += steps

    def pain(self, athlete: str, ts: int, pain: list[Pain], note: str) -> None:
        report = Wellness(ts=ts, pain=pain, note=note)
        self._send(athlete, "wellness", report.model_dump_json(exclude_none=True).encode(), ts)
        self.counts.pain_reports += 1

    def skip(self, why: str) -> None:
        self.counts.skipped += 1
        self.note(why)

    def note(self, what: str) -> None:
        self.counts.notes[what] = self.counts.notes.get(what, 0) + 1

    def _steps(self, athlete: str, sid: str, start_ts: int, active_ms: float, n: int) -> None:
        """``n`` steps evenly over the active time, feet alternating, in batches of `BATCH_STEPS`."""
        cadence = float(f"{n * 60_000 / active_ms:.4g}")  # an average: four digits, and never rounded to 0
        for a in range(0, n, BATCH_STEPS):
            times = [start_ts + round(i * active_ms / n) for i in range(a, min(a + BATCH_STEPS, n))]
            rows = [{"ts": ts, "foot": "LR"[(a + k) % 2], "cadence_spm": cadence} for k, ts in enumerate(times)]
            # Marked, so the rules that judge form leave a cadence known only as an average out.
            body = {"session_id": sid, "seq": times[0], "cadence_source": "estimated", "steps": rows}
            payload = json.dumps(body, separators=(",", ":")).encode()
            self.messages.append(Message(self._topic(athlete, "steps"), payload, times[-1], steps=len(times)))

    def _send(self, athlete: str, stream: Stream, payload: bytes, ts: int) -> None:
        self.messages.append(Message(self._topic(athlete, stream), payload, ts))
        self.athletes.add(athlete)

    def _topic(self, athlete: str, stream: Stream) -> str:
        return device_topic(self.team, athlete, self.device, stream)


def read_team_log(
    path: Path, *, team: str, athlete: str | None = None, device: str | None = None, tz: tzinfo = UTC
) -> TeamLog | None:
    """The team log in ``path`` as messages, or None when its content is not one of the formats.

    ``athlete`` is whose a PMSys or Fitbit log is (default: its participant folder);
    ``device`` what its messages are stored under (default: `DEVICES`); ``tz`` the zone of
    Fitbit's local start times. Raises `FileError` for a malformed row or an unknown athlete.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        return None  # binary: a FIT file, a gzipped one
    found = _sniff(path, text)
    if found is None:
        return None
    fmt, content = found
    out = _Out(team, device or DEVICES[fmt], LogCounts(fmt))
    if fmt in ONE_ATHLETE:
        whose = athlete or participant(path)
        if whose is None:
            raise FileError(path, "whose log is it? Give --athlete (its path has no participant folder such as p01)")
        if not is_id(whose):
            raise FileError(path, f"athlete {whose!r} is not 1-64 characters of A-Z, a-z, 0-9, _ or -")
        _ONE_ATHLETE_READERS[fmt](path, content, out, whose, tz)
    else:
        _TEAM_READERS[fmt](path, content, out)
    out.counts.athletes = len(out.athletes)
    out.messages.sort(key=lambda m: m.ts)  # stable: a session's own messages keep their order
    return TeamLog(path, out.counts, out.messages)


def participant(path: Path) -> str | None:
    """PMData's participant: the nearest folder of ``path`` named p and digits.

    >>> participant(Path("pmdata/p12/pmsys/injury.csv"))
    'p12'
    >>> participant(Path("exports/srpe.csv")) is None
    True
    """
    return next((part for part in reversed(path.parent.parts) if PARTICIPANT.fullmatch(part)), None)


def body_part(name: str) -> tuple[PainSite, PainSide]:
    """An injury report's body part as the contract's site and side.

    >>> body_part("right_knee"), body_part("groin_hip"), body_part("left_thigh"), body_part("head_neck")
    (('knee', 'R'), ('hip', 'both'), ('other', 'L'), ('other', 'both'))
    """
    part = name.strip().lower()
    side: PainSide = "both"
    for prefix, which in (("left_", "L"), ("right_", "R")):
        if part.startswith(prefix):
            part, side = part.removeprefix(prefix), which  # type: ignore[assignment]
    return BODY_SITES.get(part, "other"), side


def _sniff(path: Path, text: str) -> tuple[Format, Any] | None:
    """The format the text shows, with its content: the rows of a CSV, the list of a JSON file."""
    if text.lstrip().startswith("["):
        try:
            entries = json.loads(text)
        except json.JSONDecodeError:
            return None
        fitbit = isinstance(entries, list) and bool(entries) and isinstance(entries[0], dict)
        return ("fitbit-exercise", entries) if fitbit and {"activityName", "startTime"} <= entries[0].keys() else None
    head = list(itertools.islice(csv.reader(io.StringIO(text, newline="")), 2))
    if not head or not head[0]:
        return None
    columns = {cell.strip().lower() for cell in head[0]}
    for fmt, needed in HEADERS.items():
        if needed <= columns:
            return fmt, _rows(text)
    # A wide daily table: the first cell under the header a dd.mm.yyyy date (what no recording's time looks like).
    if len(head) > 1 and len(head[0]) >= 2 and head[1] and DAY.fullmatch(head[1][0].strip()):
        rows = _rows(text)
        return _daily_kind(path, head[0][0].strip().lower(), rows), rows
    return None


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cells) of every non-empty row, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""))
    return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]


def _daily_kind(path: Path, first: str, rows: list[tuple[int, list[str]]]) -> Format:
    """A wide table's first column names it ("Soreness Data"); a plain ``Date`` table with values over 5 holds
    loads, as no soreness scale goes that high."""
    if "soreness" in first:
        return "daily-soreness"
    if "load" in first or any(_over_five(cell) for _, row in rows[1:] for cell in row[1:]):
        return "daily-load"
    raise FileError(path, "a daily table, but of load or of soreness? Name its first column Load or Soreness")


def _over_five(cell: str) -> bool:
    try:
        return float(cell) > 5
    except ValueError:
        return False


def _table(path: Path, rows: list[tuple[int, list[str]]]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows after the header as {column (lower-cased): value}; a short row's missing cells are empty."""
    header = [cell.strip().lower() for cell in rows[0][1]]
    for n, row in rows[1:]:
        if len(row) > len(header):
            raise FileError(path, f"row {n}: {len(row)} cells, the header names {len(header)}")
        yield n, dict(zip(header, [cell.strip() for cell in row] + [""] * (len(header) - len(row)), strict=True))


@contextmanager
def _row(path: Path, n: int, what: str = "row") -> Iterator[None]:
    """A problem in one row (a `_BadRow`, or a value the contract's models refuse) as a `FileError` naming the file
    and the row."""
    try:
        yield
    except ValueError as exc:  # _BadRow, or pydantic's ValidationError
        raise FileError(path, f"{what} {n}: {exc}") from None


def _srpe(path: Path, rows: list[tuple[int, list[str]]], out: _Out, athlete: str, tz: tzinfo) -> None:
    for n, row in _table(path, rows):
        with _row(path, n):
            if not row["perceived_exertion"] and not row["duration_min"]:
                out.skip("neither RPE nor minutes logged")
                continue
            end = _instant(row["end_date_time"], "end_date_time")
            rpe = _number(row["perceived_exertion"], "perceived_exertion", 0, 10)
            minutes = _number(row["duration_min"], "duration_min", 0, 7 * 24 * 60)
            if minutes == 0:
                out.skip("0 minutes")
                continue
            activity = _pmsys_activity(_literal(row["activity_names"], "activity_names", list))
            end_ts = epoch_ms(end)
            digest = hashlib.sha256("\x1f".join(row.values()).encode()).hexdigest()[:10]
            out.session(athlete, f"srpe-{end:%Y%m%dT%H%M%S}-{digest}", end_ts - round(minutes * 60_000), end_ts,
                        activity=activity, duration_s=minutes * 60, rpe=rpe)  # fmt: skip


def _pmsys_activity(names: list[Any]) -> Activity:
    """'running' among the names is a run; else strength (gym) work is strength; the rest (team sports) other."""
    words = {str(name).strip().lower() for name in names}
    if "running" in words:
        return "run"
    return "strength" if words & {"strength", "gym", "weights"} else "other"


def _wellness(path: Path, rows: list[tuple[int, list[str]]], out: _Out, athlete: str, tz: tzinfo) -> None:
    for n, row in _table(path, rows):
        with _row(path, n):
            if not row["soreness"]:
                continue  # not answered
            when = _instant(row["effective_time_frame"], "effective_time_frame")
            soreness = _number(row["soreness"], "soreness")
            codes = _literal(row["soreness_area"], "soreness_area", list) if row.get("soreness_area") else []
            if not all(isinstance(code, int) for code in codes):
                raise _BadRow(f"soreness_area {row['soreness_area']!r} is not a list of body-structure codes")
            areas = [SORENESS_AREAS.get(code, ("other", "both", f"area {code}")) for code in codes]
            pain = _soreness(out, soreness, areas)
            if pain:
                names = ", ".join(dict.fromkeys(name for *_, name in areas)) or "none named"
                note = f"from a PMSys wellness report: soreness {soreness:g} of 5 (1 = worst); areas: {names}"
                out.pain(athlete, epoch_ms(when), pain, note)


def _soreness(out: _Out, soreness: float, areas: list[tuple[PainSite, PainSide, str]]) -> list[Pain]:
    """The pain entries of a soreness score at its areas ("other", both sides, when none is named); none
    from 3 on; a score off the 1-5 scale (PMSys stores 0 for a form sent empty) is skipped."""
    if soreness in (3, 4, 5):
        return []
    if soreness not in SORENESS_SCORES:
        out.skip(f"soreness {soreness:g} is not on the 1-5 scale")
        return []
    places = dict.fromkeys((site, side) for site, side, _ in areas) or {("other", "both"): None}
    return [Pain(site=site, side=side, score=SORENESS_SCORES[int(soreness)], kind="soreness") for site, side in places]


def _pmsys_injuries(path: Path, rows: list[tuple[int, list[str]]], out: _Out, athlete: str, tz: tzinfo) -> None:
    reports: dict[tuple[str, int], dict[str, str]] = {}
    for n, row in _table(path, rows):
        with _row(path, n):
            when = epoch_ms(_instant(row["effective_time_frame"], "effective_time_frame"))
            _injured(reports, (athlete, when), _literal(row["injuries"], "injuries", dict), out)
    _send_injuries(path, reports, out, "a PMSys injury report")


def _injury_list(path: Path, rows: list[tuple[int, list[str]]], out: _Out) -> None:
    reports: dict[tuple[str, int], dict[str, str]] = {}
    for n, row in _table(path, rows):
        with _row(path, n):
            player = _player(row["player_name"])
            when = epoch_ms(datetime.combine(_day(row["timestamp"], "timestamp"), INJURY_AT, UTC))
            _injured(reports, (player, when), _literal(row["type"], "type", dict), out)
    _send_injuries(path, reports, out, "a team's injury report")


def _injured(reports: dict[tuple[str, int], dict[str, str]], key: tuple[str, int], injuries: dict[Any, Any],
             out: _Out) -> None:  # fmt: skip
    """Add a report's body parts to the athlete's report at that time, keeping each part's worse severity (a
    report entered twice on one day is one report)."""
    parts: dict[str, str] = {}
    for part, severity in injuries.items():
        level = str(severity).strip().lower()
        if level not in SEVERITIES:
            raise _BadRow(f"{part}: {severity!r} is neither minor nor major")
        parts[str(part)] = level
    if not parts:
        return  # {}: no injury
    out.counts.injuries += 1
    merged = reports.setdefault(key, {})
    for part, level in parts.items():
        merged[part] = max(merged.get(part, level), level, key=lambda s: SEVERITIES[s][0])


def _send_injuries(path: Path, reports: dict[tuple[str, int], dict[str, str]], out: _Out, source: str) -> None:
    for (athlete, ts), parts in reports.items():
        pain = [Pain(site=site, side=side, score=score, kind=kind)
                for part, level in parts.items()
                for (site, side), (score, kind) in [(body_part(part), SEVERITIES[level])]]  # fmt: skip
        named = ", ".join(f"{part} {level}" for part, level in parts.items())
        try:
            out.pain(athlete, ts, pain, f"from {source}: {named}")
        except ValueError as exc:  # over 20 body parts: the contract's limit
            raise FileError(path, f"the injury report of {athlete} at {_iso(ts)}: {exc}") from None


def _fitbit(path: Path, entries: list[Any], out: _Out, athlete: str, tz: tzinfo) -> None:
    found: list[tuple[int, dict[str, Any], int, int]] = []  # (entry number, entry, start, wall-clock end)
    for n, entry in enumerate(entries, 1):
        with _row(path, n, "entry"):
            if not isinstance(entry, dict):
                raise _BadRow("not a JSON object")
            name = _field(entry, "activityName", str)
            if name not in FITBIT_ACTIVITIES:
                out.skip(f"{name}: not a run or walk")
                continue
            start_ts = _local_ms(_field(entry, "startTime", str), tz)
            steps = _field(entry, "steps", int) if "steps" in entry else 0
            active = _field(entry, "activeDuration", int)
            if steps <= 0 or active <= 0:
                out.skip("no steps or no active time")
                continue
            if steps * 60_000 / active > MAX_CADENCE_SPM:
                out.skip(f"impossible_cadence: over {MAX_CADENCE_SPM:.0f} steps/min")
                continue
            found.append((n, entry, start_ts, start_ts + max(_field(entry, "duration", int), active)))
    repeated = duplicates([(f"entry {n}", start, end, False) for n, _, start, end in found])
    for k, (n, entry, start_ts, end_ts) in enumerate(found):
        if k in repeated:
            out.skip("duplicate: the same session logged twice")
            continue
        with _row(path, n, "entry"):
            _fitbit_session(out, athlete, entry, start_ts, end_ts)


def _fitbit_session(out: _Out, athlete: str, entry: dict[str, Any], start_ts: int, end_ts: int) -> None:
    """A run or walk: its active time, its distance when Fitbit knows it, its step count spread evenly."""
    active_s = entry["activeDuration"] / 1000
    if active_s > VERY_LONG_S:
        out.note(f"very_long: over {VERY_LONG_S / 3600:.0f} h active, kept")
    distance_m = None
    if "distance" in entry:
        unit = entry.get("distanceUnit", "Kilometer")
        if unit not in DISTANCE_UNITS_M:
            raise _BadRow(f"distanceUnit {unit!r}: only {', '.join(DISTANCE_UNITS_M)} are read")
        distance_m = round(float(entry["distance"]) * DISTANCE_UNITS_M[unit], 1)
    activity, surface = FITBIT_ACTIVITIES[entry["activityName"]]
    sid = f"fitbit-{datetime.fromtimestamp(start_ts / 1000, UTC):%Y%m%dT%H%M%S}-{_field(entry, 'logId', int)}"
    out.session(athlete, sid, start_ts, end_ts, activity=activity, duration_s=active_s, distance_m=distance_m,
                surface=surface, steps=entry["steps"])  # fmt: skip


def _local_ms(value: str, tz: tzinfo) -> int:
    """Fitbit's local start time (no zone) in ``tz``."""
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise _BadRow(f"startTime {value!r} is not a date and time") from None
    return epoch_ms(start if start.tzinfo else start.replace(tzinfo=tz))


def _daily(path: Path, rows: list[tuple[int, list[str]]]) -> Iterator[tuple[int, date, str, str]]:
    """(row, day, player, value) of every non-empty cell of a wide daily table."""
    players = []
    for k, name in enumerate(rows[0][1][1:], 2):
        with _row(path, k, "column"):
            players.append(_player(name))
    if len(set(players)) < len(players):
        raise FileError(path, "a player has two columns")
    for n, row in rows[1:]:
        if len(row) > len(players) + 1:
            raise FileError(path, f"row {n}: {len(row)} cells, the header names {len(players) + 1}")
        with _row(path, n):
            day = _day(row[0], "the date")
        for player, cell in zip(players, row[1:], strict=False):
            if cell.strip():
                yield n, day, player, cell.strip()


def _daily_load(path: Path, rows: list[tuple[int, list[str]]], out: _Out) -> None:
    """A day's load (rpe x minutes) as one session of RPE `DAILY_LOAD_RPE` lasting load / RPE minutes: the
    contract carries load as RPE and minutes, so the load is exact and the duration an estimate."""
    for n, day, player, cell in _daily(path, rows):
        with _row(path, n):
            load = _number(cell, "load", 0)
            if load == 0:
                continue  # no training logged that day
            start = datetime.combine(day, SESSION_AT, UTC)
            minutes = load / DAILY_LOAD_RPE
            out.session(player, f"load-{day:%Y%m%d}", epoch_ms(start), epoch_ms(start + timedelta(minutes=minutes)),
                        activity="other", duration_s=minutes * 60, rpe=DAILY_LOAD_RPE)  # fmt: skip


def _daily_soreness(path: Path, rows: list[tuple[int, list[str]]], out: _Out) -> None:
    for n, day, player, cell in _daily(path, rows):
        with _row(path, n):
            soreness = _number(cell, "soreness")
            pain = _soreness(out, soreness, [])
            if pain:
                out.pain(player, epoch_ms(datetime.combine(day, SORENESS_AT, UTC)), pain,
                         f"from a team's daily soreness table: soreness {soreness:g} of 5 (1 = worst)")  # fmt: skip


def _player(name: str) -> str:
    if not is_id(name.strip()):
        raise _BadRow(f"player {name!r} is not an id (1-64 characters of A-Z, a-z, 0-9, _ or -)")
    return name.strip()


def _number(value: str, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _BadRow(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _BadRow(f"{what} {value!r} is not within {low:g} to {high:g}")
    return number


def _instant(value: str, what: str) -> datetime:
    """An ISO 8601 time; PMSys's are UTC, so one without a zone is taken as UTC."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _BadRow(f"{what} {value!r} is not an ISO 8601 date and time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _day(value: str, what: str) -> date:
    try:
        return datetime.strptime(value.strip(), "%d.%m.%Y").date()
    except ValueError:
        raise _BadRow(f"{what} {value!r} is not a dd.mm.yyyy date") from None


def _literal(value: str, what: str, kind: type[T]) -> T:
    """A Python or JSON literal (PMSys writes ``['individual', 'running']`` and ``{'right_knee': 'minor'}``)."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        parsed = None
    if not isinstance(parsed, kind):
        raise _BadRow(f"{what} {value!r} is not a {'list' if kind is list else 'map'}")
    return parsed


def _field(entry: dict[str, Any], name: str, kind: type[T]) -> T:
    value = entry.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _BadRow(f"{name} {value!r} is not {'an integer' if kind is int else 'text'}")
    return value


def _event(event: SessionEvent, *, rpe: float | None = None) -> bytes:
    """The event's JSON, with ``rpe`` added to it: an optional field of v1 that a validator older than it ignores."""
    body = event.model_dump(mode="json", exclude_none=True, exclude_unset=True)
    return json.dumps(body if rpe is None else {**body, "rpe": rpe}, separators=(",", ":")).encode()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).isoformat().replace("+00:00", "Z")


_ONE_ATHLETE_READERS: dict[Format, Callable[[Path, Any, _Out, str, tzinfo], None]] = {
    "pmsys-srpe": _srpe, "pmsys-wellness": _wellness, "pmsys-injury": _pmsys_injuries, "fitbit-exercise": _fitbit,
}  # fmt: skip
_TEAM_READERS: dict[Format, Callable[[Path, Any, _Out], None]] = {
    "injury-list": _injury_list, "daily-load": _daily_load, "daily-soreness": _daily_soreness,
}  # fmt: skip
