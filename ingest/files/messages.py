"""An imported session as the contract's messages: ``session`` start, ``steps`` batches, ``session`` end.

Ids come from the file's content, so importing a file again repeats the same messages and
the store, idempotent on (team, athlete, device, seq), keeps nothing new: the session id is
the start time and a digest of the file's bytes; each batch's ``seq`` is the event time of
its first step in ms, increasing within a device as the contract asks, and unique as long as
one athlete's sessions do not overlap (`plausibility.duplicates` drops those that do).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

from ingest.files.model import Activity
from ingest.files.plausibility import Track
from ingest.files.steps import Steps
from ingest.payloads import SessionEvent
from ingest.topics import device_topic

BATCH_STEPS = 500  # about 3 minutes of running; some 35 KB of JSON, far under the 256 KiB limit


class Outgoing(NamedTuple):
    """One message to publish or store: where, what, its event time, and the steps it carries."""

    topic: str
    payload: bytes
    ts: int
    steps: int = 0


def session_id(activity: Activity, track: Track) -> str:
    start = datetime.fromtimestamp(track.start_ts / 1000, UTC)
    return f"imp-{start:%Y%m%dT%H%M%S}-{activity.digest[:10]}-{activity.index}"


def session_messages(
    activity: Activity, track: Track, steps: Steps, *, team: str, athlete: str, device: str
) -> list[Outgoing]:
    sid = session_id(activity, track)
    session_topic, steps_topic = (device_topic(team, athlete, device, s) for s in ("session", "steps"))
    assert activity.activity is not None, "only step activities are imported"
    start = SessionEvent(session_id=sid, event="start", ts=track.start_ts, activity=activity.activity)
    end = SessionEvent(
        session_id=sid,
        event="end",
        ts=track.end_ts,
        duration_s=round(track.duration_s, 3),
        distance_m=round(track.distance_m, 2) if track.distance_m is not None else None,
    )
    out = [Outgoing(session_topic, _json(start), track.start_ts)]
    # Marked, so the rules that judge form leave a cadence modelled from GPS speed out.
    source = {} if track.cadence == "measured" else {"cadence_source": "estimated"}
    for a in range(0, len(steps), BATCH_STEPS):
        b = min(a + BATCH_STEPS, len(steps))
        body = {"session_id": sid, "seq": int(steps.ts[a]), **source, "steps": _step_rows(steps, a, b)}
        out.append(Outgoing(steps_topic, json.dumps(body, separators=(",", ":")).encode(), int(steps.ts[b - 1]), b - a))
    out.append(Outgoing(session_topic, _json(end), track.end_ts))
    return out


def _step_rows(steps: Steps, a: int, b: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(a, b):
        row: dict[str, object] = {
            "ts": int(steps.ts[i]),
            "foot": "L" if i % 2 == 0 else "R",
            "cadence_spm": round(float(steps.cadence_spm[i]), 1),
        }
        if np.isfinite(steps.elevation_m[i]):
            row["elevation_m"] = round(float(steps.elevation_m[i]), 1)
        rows.append(row)
    return rows


def _json(event: SessionEvent) -> bytes:
    return event.model_dump_json(exclude_none=True, exclude_unset=True).encode()
