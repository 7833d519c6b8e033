"""Garmin FIT files, through fitdecode: one `Activity` per session message.

Record ``cadence`` is strides per minute (one foot) plus ``fractional_cadence``: doubled for
steps per minute. CRC and format errors raise rather than warn, so a truncated or corrupt
file is rejected whole instead of importing whatever came before the damage.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import fitdecode

from ingest.files.model import Activity, FileError, Point, epoch_ms

SEMICIRCLE_DEG = 180 / 2**31


def read_fit(path: Path, data: bytes) -> list[Activity]:
    records: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = []
    sport: str | None = None
    try:
        with fitdecode.FitReader(
            data, check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name in ("record", "session"):
                    values = {field.name: field.value for field in frame.fields}
                    (records if frame.name == "record" else sessions).append(values)
                elif frame.name == "sport":
                    sport = str(frame.get_value("sport", fallback=None) or sport)
    except fitdecode.FitError as exc:
        raise FileError(path, f"not a readable FIT file ({type(exc).__name__}: {exc})") from None
    points = [_point(r) for r in records if isinstance(r.get("timestamp"), datetime)]
    if not points:
        raise FileError(path, "a FIT file without any timed record: nothing to import")
    digest = hashlib.sha256(data).hexdigest()
    if not sessions:  # a file cut before its summary: the records alone
        return [Activity(path, 0, "fit", sport or "generic", tuple(points), digest)]
    # Each record belongs to the last session started at or before it (records before the
    # first start to the first): a session's elapsed time can end a second before its last record.
    starts = [epoch_ms(s["start_time"]) for s in sessions]
    out = []
    for index, session in enumerate(sessions):
        lo = starts[index] if index else -1
        hi = starts[index + 1] if index + 1 < len(starts) else None
        mine = tuple(p for p in points if p.ts >= lo and (hi is None or p.ts < hi))
        if mine:
            out.append(
                Activity(path, index, "fit", str(session.get("sport") or sport or "generic"), mine, digest,
                         file_duration_s=session.get("total_elapsed_time"),
                         file_distance_m=session.get("total_distance"))
            )  # fmt: skip
    return out


def _point(r: dict[str, Any]) -> Point:
    lat, lon = r.get("position_lat"), r.get("position_long")
    cadence = r.get("cadence")
    altitude = r.get("enhanced_altitude")
    return Point(
        ts=epoch_ms(r["timestamp"]),
        lat=lat * SEMICIRCLE_DEG if lat is not None and lon is not None else None,
        lon=lon * SEMICIRCLE_DEG if lat is not None and lon is not None else None,
        altitude_m=altitude if altitude is not None else r.get("altitude"),
        distance_m=r.get("distance"),
        cadence_spm=2 * (cadence + (r.get("fractional_cadence") or 0.0)) if cadence is not None else None,
        heart_rate=r.get("heart_rate"),
    )
