"""`stridewatch import`: files in, messages out to the store or the broker, and the table of what happened."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, tzinfo
from pathlib import Path

from rich.console import Console
from rich.table import Table

from stridewatch.tools.importing import ImportResult, RecordingOptions, expand, prepare
from stridewatch.tools.sending import publish, store


def run(
    paths: Sequence[Path],
    *,
    team: str,
    athlete: str | None = None,
    device: str | None = None,
    tz: tzinfo = UTC,
    mqtt_url: str | None = None,
    db_url: str | None = None,
    feed: bool = False,
    recording: RecordingOptions | None = None,
    as_json: bool = False,
    progress: bool = True,
    console: Console | None = None,
) -> int:
    """The command: import, print the per-file summary; the exit code is 1 when any file failed."""
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    result = prepare(expand(paths), team=team, athlete=athlete, device=device, tz=tz,
                     recording=recording or RecordingOptions(), progress=progress)  # fmt: skip
    dead = 0
    if db_url is not None:
        dead = store(result.messages, db_url, progress=progress, feed=feed)
    elif mqtt_url is not None:
        publish(result.messages, mqtt_url, progress=progress)
    if as_json:
        body = {"files": [asdict(f) for f in result.files], "totals": result.totals()}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")  # raw: rich would wrap long lines
    else:
        if any(f.team_log is None for f in result.files):
            console.print(summary_table(result))
        if any(f.team_log is not None for f in result.files):
            console.print(team_log_table(result))
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
        if f.team_log is not None:
            continue  # in the team logs' table
        name = Path(f.path).name
        if f.error:
            table.add_row(name, "", "", "", "", "", "[red]failed[/]" if f.status == "failed" else "no", f.error)
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


def team_log_table(result: ImportResult) -> Table:
    """One row per team log: what it held, as counts (a season's logs hold thousands of sessions)."""
    t = result.totals()
    table = Table(
        title=f"team logs: {t['srpe_load']:,.0f} sRPE load (RPE x min), {t['pain_reports']:,} pain reports, "
        f"{t['injuries']:,} injury reports"
    )
    for column in ("file", "format", "athletes", "sessions", "h", "km", "steps", "sRPE load", "pain reports",
                   "injury reports", "skipped", "notes"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("file", "format", "notes") else "right", overflow="fold")
    for f in result.files:
        c = f.team_log
        if c is None:
            continue
        notes = "\n".join(f"{n} x {what}" for what, n in c.notes.items())
        table.add_row(
            _short(f.path), c.format, f"{c.athletes}", f"{c.sessions:,}", f"{c.minutes / 60:,.1f}",
            f"{c.distance_m / 1000:,.1f}", f"{c.steps:,}", f"{c.srpe_load:,.0f}", f"{c.pain_reports:,}",
            f"{c.injuries:,}", f"{c.skipped:,}", notes,
        )  # fmt: skip
    return table


def _short(path: str) -> str:
    """The file with its folder: team logs share names (p01/pmsys/srpe.csv, p02/pmsys/srpe.csv)."""
    p = Path(path)
    return str(Path(*p.parts[-3:])) if len(p.parts) >= 3 else str(p)
