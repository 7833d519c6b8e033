"""An imported session as the contract's messages: ``session`` start, ``steps`` (or ``imu``) batches, ``session`` end.

Ids come from the file's content, so importing a file again repeats the same messages and
the store, idempotent on (team, athlete, device, seq), keeps nothing new: the session id is
the start time and a digest of the file's bytes; each batch's ``seq`` is the event time of
its first step in ms, increasing within a device as the contract asks, and unique as long as
one athlete's sessions do not overlap (`plausibility.duplicates` drops those that do).
A raw recording goes as ``imu`` batches of its samples, with their own times, and the
server detects its steps as it does a pod's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from ingest.files.accel import Recording
from ingest.files.model import Activity, StepActivity
from ingest.files.plausibility import Track
from ingest.files.steps import Steps
from ingest.imu.params import ImuPlacement
from ingest.message import Message
from ingest.payloads import Placement, SessionEvent
from ingest.topics import device_topic

BATCH_STEPS = 500  # about 3 minutes of running; some 35 KB of JSON, far under the 256 KiB limit
BATCH_SAMPLES = 1000  # 10 s at 100 Hz with per-sample times: some 60 KB of JSON
SESSION_PLACEMENTS: tuple[Placement, ...] = ("foot", "shin", "sacrum", "wrist")  # a session event's placements


def session_id(activity: Activity, track: Track) -> str:
    start = datetime.fromtimestamp(track.start_ts / 1000, UTC)
    return f"imp-{start:%Y%m%dT%H%M%S}-{activity.digest[:10]}-{activity.index}"


def session_messages(
    activity: Activity, track: Track, steps: Steps, *, team: str, athlete: str, device: str
) -> list[Message]:
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
    out = [Message(session_topic, _json(start), track.start_ts)]
    # Marked, so the rules that judge form leave a cadence modelled from GPS speed out.
    source = {} if track.cadence == "measured" else {"cadence_source": "estimated"}
    for a in range(0, len(steps), BATCH_STEPS):
        b = min(a + BATCH_STEPS, len(steps))
        body = {"session_id": sid, "seq": int(steps.ts[a]), **source, "steps": _step_rows(steps, a, b)}
        out.append(
            Message(steps_topic, json.dumps(body, separators=(",", ":")).encode(), int(steps.ts[b - 1]), steps=b - a)
        )
    out.append(Message(session_topic, _json(end), track.end_ts))
    return out


def recording_messages(
    recording: Recording, *, team: str, athlete: str, device: str, placement: ImuPlacement, activity: StepActivity
) -> list[Message]:
    """A raw recording as one session: start, ``imu`` batches with per-sample times, end."""
    times = recording.times_ms
    start_ts, end_ts = int(np.floor(times[0])), int(np.ceil(times[-1]))
    sid = f"imp-{datetime.fromtimestamp(start_ts / 1000, UTC):%Y%m%dT%H%M%S}-{recording.digest[:10]}-0"
    session_topic, imu_topic = (device_topic(team, athlete, device, s) for s in ("session", "imu"))
    on_session = placement if placement in SESSION_PLACEMENTS else None  # a phone's place is the imu stream's
    start = SessionEvent(session_id=sid, event="start", ts=start_ts, activity=activity, placement=on_session)
    end = SessionEvent(session_id=sid, event="end", ts=end_ts, duration_s=round((end_ts - start_ts) / 1000, 3))
    out = [Message(session_topic, _json(start), start_ts)]
    rate = round(recording.rate_hz)
    for a in range(0, len(times), BATCH_SAMPLES):
        b = min(a + BATCH_SAMPLES, len(times))
        ts = round(times[a])
        body = {
            "session_id": sid, "seq": ts, "ts": ts, "rate_hz": rate, "unit": recording.unit, "placement": placement,
            "t": np.round(times[a:b] - times[a], 3).tolist(),
            **{axis: recording.xyz[a:b, k].tolist() for k, axis in enumerate("xyz")},
        }  # fmt: skip
        out.append(Message(imu_topic, json.dumps(body, separators=(",", ":")).encode(), round(times[b - 1])))
    out.append(Message(session_topic, _json(end), end_ts))
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
