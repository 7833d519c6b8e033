"""Watch files (FIT, TCX, GPX) -> contract sessions and steps; raw accelerometer recordings (CSV) ->
contract sessions and imu batches; team logs (PMSys, Fitbit, SoccerMon-style tables, told by
content: `ingest.files.teamlogs`) -> sessions with their RPE, and pain reports; with what each
file held, flagged where implausible.

A file that cannot be read is reported with its problem and the others still import. A
recording's steps are detected by the server; the report counts them with the same detector
over the same batches, so it says what the store will hold. Sending the messages is
`stridewatch.tools.sending`'s; the command, `stridewatch.tools.import_files`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal, Self, get_args

import numpy as np

from ingest.files import (
    READERS,
    Activity,
    FileError,
    Flag,
    Message,
    duplicates,
    file_type,
    judge,
    read_activities,
    session_id,
    session_messages,
    synthesize,
)
from ingest.files.accel import NotARecording, Recording, read_recording
from ingest.files.messages import recording_messages
from ingest.files.model import StepActivity
from ingest.files.teamlogs import LogCounts, read_team_log
from ingest.imu import IMU_PLACEMENTS, Detector, ImuPlacement
from ingest.imu.samples import Unit
from ingest.payloads import ImuBatch, parse_payload
from ingest.topics import device_topic, parse_device_topic
from stridewatch.progress import progress_bar

log = logging.getLogger("stridewatch.tools.importing")

DEFAULT_DEVICE = "watch-import"
RECORDINGS = (".csv",)
TEAM_LOGS = (".json",)  # Fitbit's exercise log; PMSys and team tables are .csv, told from recordings by content


@dataclass
class SessionReport:
    session_id: str | None
    sport: str
    start: str | None  # ISO 8601, UTC
    duration_s: float | None
    distance_m: float | None
    steps: int
    cadence_spm: tuple[float, float] | None  # the range that made steps
    cadence: str | None  # "measured", "estimated from speed", "detected from raw acceleration", or None
    imported: bool
    note: str | None = None  # why a session was not imported, when no flag says it
    flags: list[Flag] = field(default_factory=list)


@dataclass
class FileReport:
    path: str
    status: Literal["imported", "skipped", "failed"]
    error: str | None = None
    sessions: list[SessionReport] = field(default_factory=list)
    team_log: LogCounts | None = None  # what a team log held (its sessions are counted, not listed)


@dataclass(frozen=True, kw_only=True)
class RecordingOptions:
    """What a raw recording may not say itself: where the sensor sat, when it started, the unit, the activity."""

    placement: ImuPlacement | None = None
    start_ms: int | None = None
    unit: Unit | None = None
    activity: StepActivity | None = None

    @classmethod
    def parse(cls, *, placement: str | None, start: datetime | None, unit: str | None, activity: str | None) -> Self:
        """From the command line's words; `ValueError` names the one that is not known."""
        for name, value, known in (("placement", placement, IMU_PLACEMENTS), ("unit", unit, get_args(Unit)),
                                   ("activity", activity, get_args(StepActivity))):  # fmt: skip
            if value is not None and value not in known:
                raise ValueError(f"{name} {value!r}: use one of {', '.join(known)}")
        start_ms = None if start is None else round(start.replace(tzinfo=UTC).timestamp() * 1000)
        return cls(placement=placement, start_ms=start_ms, unit=unit, activity=activity)  # type: ignore[arg-type]


@dataclass
class _Found:
    """A session to import: its report, its span (for duplicates), and how to make its messages."""

    report: FileReport
    session: SessionReport
    start_ts: int
    end_ts: int
    measured: bool
    messages: Callable[[], tuple[int, list[Message]]]  # (steps, messages)


@dataclass
class ImportResult:
    files: list[FileReport]
    messages: list[Message]

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    def totals(self) -> dict[str, float | int]:
        done = [s for f in self.files for s in f.sessions if s.imported]
        logs = [f.team_log for f in self.files if f.team_log is not None]
        return {
            "files": len(self.files),
            "failed": len(self.failed),
            "sessions": len(done) + sum(c.sessions for c in logs),
            "hours": round((sum(s.duration_s or 0 for s in done) + sum(c.minutes * 60 for c in logs)) / 3600, 2),
            "km": round((sum(s.distance_m or 0 for s in done) + sum(c.distance_m for c in logs)) / 1000, 2),
            "steps": sum(s.steps for s in done) + sum(c.steps for c in logs),
            "srpe_load": round(sum(c.srpe_load for c in logs), 1),
            "pain_reports": sum(c.pain_reports for c in logs),
            "injuries": sum(c.injuries for c in logs),
            "flags": sum(len(s.flags) for f in self.files for s in f.sessions),
            "messages": len(self.messages),
        }


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders give every .fit/.tcx/.gpx/.csv/.json inside them, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            kinds = (*READERS, *RECORDINGS, *TEAM_LOGS)
            out += sorted(p for p in path.rglob("*") if p.is_file() and file_type(p) in kinds)
        else:
            out.append(path)
    return out


def check_ids(team: str, athlete: str | None, device: str | None) -> None:
    """Raise `TopicError` naming the id that breaks the contract's id rule (of those given)."""
    parse_device_topic(device_topic(team, athlete or "athlete", device or DEFAULT_DEVICE, "session"))


def prepare(
    files: Sequence[Path],
    *,
    team: str,
    athlete: str | None = None,
    device: str | None = None,
    tz: tzinfo = UTC,
    recording: RecordingOptions = RecordingOptions(),
    progress: bool = False,
) -> ImportResult:
    """Read, judge and convert every file; nothing is sent yet.

    ``athlete`` is whose the watch files and recordings are (required for them), and whose a
    PMSys or Fitbit log is (default: its participant folder); a team table names its players.
    ``device`` defaults to `DEFAULT_DEVICE` for watch files and to the log's own for team logs;
    ``tz`` is the zone of a Fitbit log's local times.
    """
    reports: list[FileReport] = []
    found: list[_Found] = []
    logged: list[Message] = []
    with progress_bar(progress) as bar:
        task = bar.add_task("reading", total=len(files))
        for path in files:
            report = FileReport(str(path), "imported")
            reports.append(report)
            try:
                team_log = read_team_log(path, team=team, athlete=athlete, device=device, tz=tz)
                if team_log is not None:
                    report.team_log = team_log.counts
                    logged += team_log.messages
                elif file_type(path) in TEAM_LOGS:
                    report.status, report.error = "skipped", f"{path}: not a Fitbit exercise log"
                else:
                    found += _read(report, path, recording, team=team, athlete=athlete, device=device)
            except NotARecording as exc:
                report.status, report.error = "skipped", f"{exc}, nor a team log"
            except FileError as exc:
                report.status, report.error = "failed", str(exc)
                log.info("file rejected", extra={"file": str(path), "problem": exc.problem})
            else:
                if not any(s.imported for s in report.sessions) and not (team_log and team_log.messages):
                    report.status = "skipped"
            bar.advance(task)
    for index, flag in duplicates(
        [(Path(f.report.path).name, f.start_ts, f.end_ts, f.measured) for f in found]
    ).items():
        found[index].session.flags.append(flag)
        found[index].session.imported = False
        if not any(s.imported for s in found[index].report.sessions):
            found[index].report.status = "skipped"
    # In the order they happened, whatever the files' names: a running service scores the
    # history as it was lived, and ignores what arrives older than the athlete's state. A
    # watch session's messages stay together; a team log's are in event-time order already.
    timeline: list[tuple[int, list[Message]]] = [(m.ts, [m]) for m in logged]
    for f in found:
        if f.session.imported:
            f.session.steps, sent = f.messages()
            timeline.append((f.start_ts, sent))
    timeline.sort(key=lambda item: item[0])
    return ImportResult(reports, [m for _, sent in timeline for m in sent])


def _read(
    report: FileReport, path: Path, recording: RecordingOptions, *, team: str, athlete: str | None, device: str | None
) -> list[_Found]:
    """A recording's or a watch file's sessions (`NotARecording` for a CSV that is neither a recording nor a log).
    Whose they are is asked only of a file that holds some: a folder's other CSVs are skipped, not failed."""
    if file_type(path) in RECORDINGS:
        read = read_recording(path, start_ms=recording.start_ms, unit=recording.unit)
        return _recorded(report, read, recording, _ids(path, team, athlete, device))
    activities = read_activities(path)
    ids = _ids(path, team, athlete, device)
    return [f for activity in activities for f in _judged(report, activity, ids)]


def _ids(path: Path, team: str, athlete: str | None, device: str | None) -> dict[str, str]:
    if athlete is None:
        raise FileError(path, "whose is it? A watch file or recording does not say: give --athlete")
    return {"team": team, "athlete": athlete, "device": device or DEFAULT_DEVICE}


def _recorded(report: FileReport, recording: Recording, options: RecordingOptions, ids: dict[str, str]) -> list[_Found]:
    placement = options.placement or recording.placement
    if placement is None:
        raise FileError(recording.path, "where was the sensor? Give --placement (foot, shin, pocket, hand, ...)")
    activity = options.activity or recording.activity or "other"
    sent = recording_messages(recording, placement=placement, activity=activity, **ids)
    steps = _detected(sent)
    cadence = (round(float(np.percentile(steps, 5))), round(float(np.percentile(steps, 95)))) if len(steps) else None
    start, end = int(recording.times_ms[0]), int(recording.times_ms[-1])
    session = SessionReport(
        session_id=json.loads(sent[0].payload)["session_id"],
        sport=f"{activity}, raw {placement} accelerometer ({recording.layout}, {recording.rate_hz:.0f} Hz)",
        start=_iso(start),
        duration_s=round((end - start) / 1000, 1),
        distance_m=None,
        steps=len(steps),
        cadence_spm=cadence,
        cadence="detected from raw acceleration" if len(steps) else None,
        imported=True,
        flags=list(recording.flags),
    )
    report.sessions.append(session)
    return [_Found(report, session, start, end, True, lambda: (len(steps), sent))]


def _detected(messages: list[Message]) -> np.ndarray:
    """The cadence of each step the server will detect in these messages: the same detector, the same batches."""
    batches = [parse_payload(parse_device_topic(m.topic), m.payload) for m in messages if m.topic.endswith("/imu")]
    imu = [b for b in batches if isinstance(b, ImuBatch)]
    detector = Detector.start(imu[0].placement, imu[0].side)
    rows = [detector.feed(b.ts, b.rate_hz, b.xyz_g, None if b.t is None else np.asarray(b.t)) for b in imu]
    rows.append(detector.finish())
    return np.concatenate([r.cadence_spm for r in rows])


def _judged(report: FileReport, activity: Activity, ids: dict[str, str]) -> list[_Found]:
    if activity.activity is None:
        report.sessions.append(
            SessionReport(None, activity.sport, _iso(activity.points[0].ts), None, None, 0, None, None, False,
                          note=f"a {activity.sport} session has no running or walking steps: not imported")
        )  # fmt: skip
        return []
    track = judge(activity)
    session = SessionReport(
        session_id=session_id(activity, track),
        sport=activity.sport,
        start=_iso(track.start_ts),
        duration_s=round(track.duration_s, 1),
        distance_m=round(track.distance_m, 1) if track.distance_m is not None else None,
        steps=0,
        cadence_spm=track.cadence_range,
        cadence=track.cadence,
        imported=track.importable,
        note=None if track.cadence else "no cadence, distance or positions: no steps can be derived, not imported",
        flags=list(track.flags),
    )
    report.sessions.append(session)
    for flag in track.flags:
        log.info("implausible data", extra={"file": report.path, "flag": flag.code, "value": flag.value})

    def messages() -> tuple[int, list[Message]]:
        steps = synthesize(track)
        return len(steps), session_messages(activity, track, steps, **ids)

    found = _Found(report, session, track.start_ts, track.end_ts, track.cadence == "measured", messages)
    return [found] if session.imported else []


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).isoformat().replace("+00:00", "Z")
