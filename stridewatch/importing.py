"""``stridewatch import``: watch files (FIT, TCX, GPX) -> contract sessions and steps.

Published over MQTT at QoS 1 as a device would (the import is then a gateway, through the
simulators' publisher), or written straight to the store through the consumer's own record
path (`ingest.records.to_record` + `Store.write`), so both routes store the same rows.
A file that cannot be read is reported with its problem and the others still import.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from ingest.files import (
    READERS,
    Activity,
    FileError,
    Flag,
    Outgoing,
    Track,
    duplicates,
    file_type,
    judge,
    read_activities,
    session_id,
    session_messages,
    synthesize,
)
from ingest.records import Records, to_record
from ingest.store import Store
from ingest.topics import device_topic, parse_device_topic
from stridewatch.progress import progress_bar

log = logging.getLogger("stridewatch.importing")

DEFAULT_DEVICE = "watch-import"
WRITE_BATCH = 200  # messages per store transaction
MAX_FUTURE_MS = 6 * 3600 * 1000  # the consumer's default


@dataclass
class SessionReport:
    session_id: str | None
    sport: str
    start: str | None  # ISO 8601, UTC
    duration_s: float | None
    distance_m: float | None
    steps: int
    cadence_spm: tuple[float, float] | None  # the range that made steps
    cadence: str | None  # "measured", "estimated from speed", or None (no steps)
    imported: bool
    note: str | None = None  # why a session was not imported, when no flag says it
    flags: list[Flag] = field(default_factory=list)


@dataclass
class FileReport:
    path: str
    status: Literal["imported", "skipped", "failed"]
    error: str | None = None
    sessions: list[SessionReport] = field(default_factory=list)


@dataclass
class ImportResult:
    files: list[FileReport]
    messages: list[Outgoing]

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    def totals(self) -> dict[str, float | int]:
        done = [s for f in self.files for s in f.sessions if s.imported]
        return {
            "files": len(self.files),
            "failed": len(self.failed),
            "sessions": len(done),
            "hours": round(sum(s.duration_s or 0 for s in done) / 3600, 2),
            "km": round(sum(s.distance_m or 0 for s in done) / 1000, 2),
            "steps": sum(s.steps for s in done),
            "flags": sum(len(s.flags) for f in self.files for s in f.sessions),
            "messages": len(self.messages),
        }


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders give every .fit/.tcx/.gpx inside them, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and file_type(p) in READERS)
        else:
            out.append(path)
    return out


def check_ids(team: str, athlete: str, device: str) -> None:
    """Raise `TopicError` naming the id that breaks the contract's id rule."""
    parse_device_topic(device_topic(team, athlete, device, "session"))


def prepare(files: Sequence[Path], *, team: str, athlete: str, device: str, progress: bool = False) -> ImportResult:
    """Read, judge and convert every file; nothing is sent yet."""
    reports: list[FileReport] = []
    found: list[tuple[FileReport, SessionReport, Activity, Track]] = []
    with progress_bar(progress) as bar:
        task = bar.add_task("reading", total=len(files))
        for path in files:
            report = FileReport(str(path), "imported")
            reports.append(report)
            try:
                activities = read_activities(path)
            except FileError as exc:
                report.status, report.error = "failed", str(exc)
                log.info("file rejected", extra={"file": str(path), "problem": exc.problem})
            else:
                for activity in activities:
                    found += _judged(report, activity)
                if not any(s.imported for s in report.sessions):
                    report.status = "skipped"
            bar.advance(task)
    spans = [(Path(f.path).name, t.start_ts, t.end_ts, t.cadence == "measured") for f, _, _, t in found]
    for index, flag in duplicates(spans).items():
        report, session, _, _ = found[index]
        session.flags.append(flag)
        session.imported = False
        if not any(s.imported for s in report.sessions):
            report.status = "skipped"
    messages: list[Outgoing] = []
    # In the order they happened, whatever the files' names: a running service scores the
    # history as it was lived, and ignores what arrives older than the athlete's state.
    for _report, session, activity, track in sorted(found, key=lambda f: f[3].start_ts):
        if session.imported:
            steps = synthesize(track)
            session.steps = len(steps)
            messages += session_messages(activity, track, steps, team=team, athlete=athlete, device=device)
    return ImportResult(reports, messages)


def _judged(report: FileReport, activity: Activity) -> list[tuple[FileReport, SessionReport, Activity, Track]]:
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
    return [(report, session, activity, track)] if session.imported else []


def store(messages: Sequence[Outgoing], db_url: str, *, progress: bool = False) -> int:
    """Write through the consumer's record path; returns how many became dead letters (a bug if any)."""
    dead = 0
    with Store(db_url) as db, progress_bar(progress) as bar:
        db.migrate()
        task = bar.add_task("storing", total=len(messages))
        for chunk in _chunks(messages, WRITE_BATCH):
            now_ms = int(time.time() * 1000)
            records = Records()
            for m in chunk:
                records.add(to_record(m.topic, m.payload, now_ms=now_ms, max_future_ms=MAX_FUTURE_MS))
            for row in records.dead:
                log.error("imported message rejected", extra={"topic": row.topic, "reason": row.reason})
            dead += len(records.dead)
            db.write(records, received_at=now_ms)
            bar.advance(task, len(chunk))
    return dead


def publish(messages: Sequence[Outgoing], mqtt_url: str, *, progress: bool = False) -> None:
    """Publish at QoS 1 like a device; returns once the broker has acknowledged every message."""
    from simulators import Message
    from simulators import publish as publish_all

    publish_all(
        (Message(m.topic, m.payload, m.ts, steps=m.steps) for m in messages),
        url=mqtt_url,
        client_id=f"stridewatch-import-{os.getpid()}",
        progress=progress,
    )


def run(
    paths: Sequence[Path],
    *,
    team: str,
    athlete: str,
    device: str = DEFAULT_DEVICE,
    mqtt_url: str | None = None,
    db_url: str | None = None,
    as_json: bool = False,
    progress: bool = True,
    console: Console | None = None,
) -> int:
    """The command: import, print the per-file summary; the exit code is 1 when any file failed."""
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    result = prepare(expand(paths), team=team, athlete=athlete, device=device, progress=progress)
    dead = 0
    if db_url is not None:
        dead = store(result.messages, db_url, progress=progress)
    elif mqtt_url is not None:
        publish(result.messages, mqtt_url, progress=progress)
    if as_json:
        body = {"files": [asdict(f) for f in result.files], "totals": result.totals()}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")  # raw: rich would wrap long lines
    else:
        console.print(summary_table(result))
    return 1 if result.failed or dead else 0


def summary_table(result: ImportResult) -> Table:
    t = result.totals()
    table = Table(
        title=f"{t['files']} files, {t['failed']} failed: {t['sessions']} sessions imported, {t['hours']} h, "
        f"{t['km']} km, {t['steps']:,} steps, {t['flags']} flags"
    )
    for column in ("file", "session start (UTC)", "min", "km", "steps", "cadence spm", "imported", "flags / problem"):
        table.add_column(column, justify="right" if column in ("min", "km", "steps") else "left", overflow="fold")
    for f in result.files:
        name = Path(f.path).name
        if f.error:
            table.add_row(name, "", "", "", "", "", "[red]failed[/]", f.error)
        for s in f.sessions:
            notes = [f"{flag.code}: {flag.message}" for flag in s.flags] + ([s.note] if s.note else [])
            table.add_row(
                name,
                (s.start or "")[:16].replace("T", " "),
                f"{s.duration_s / 60:.1f}" if s.duration_s is not None else "",
                f"{s.distance_m / 1000:.2f}" if s.distance_m is not None else "",
                f"{s.steps:,}",
                f"{s.cadence_spm[0]:.0f}-{s.cadence_spm[1]:.0f} ({s.cadence})" if s.cadence_spm else "",
                "yes" if s.imported else "[yellow]no[/]",
                "\n".join(notes),
            )
            name = ""
    return table


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).isoformat().replace("+00:00", "Z")


def _chunks(items: Sequence[Outgoing], size: int) -> Iterator[Sequence[Outgoing]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
