"""From an MQTT message to the rows the store writes, or to a dead letter (pure).

Steps are stored per message, not per row: a batch's samples are packed column by
column into one blob (`pack_steps`), so the only index is on (team, athlete, device, seq) per
message. A per-step index cut SQLite's insert rate about six-fold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from ingest.imu import samples
from ingest.imu.detector import StepRows
from ingest.payloads import (
    MAX_PAYLOAD_BYTES,
    ImuBatch,
    PayloadError,
    SessionEvent,
    Status,
    StepsBatch,
    Wellness,
    parse_payload,
)
from ingest.topics import Stream, TopicError, device_topic, parse_device_topic, team_of

EXCERPT_CHARS = 200
# Before 2000 no wearable streamed steps: such a ts is a broken clock, not history.
EARLIEST_TS = 946_684_800_000
# Column layout of a packed step batch: (name, dtype); absent optional values are NaN.
STEP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "<i8"),
    ("foot", "u1"),
    ("cadence_spm", "<f8"),
    ("impact_g", "<f8"),
    ("elevation_m", "<f8"),
    ("contact_ms", "<f8"),
)
FEET = ("L", "R")


@dataclass(frozen=True, slots=True)
class _Batch:
    """What every batch of a device carries: whose it is, its seq, its session and its time span."""

    team: str
    athlete: str
    device: str
    seq: int
    session_id: str
    first_ts: int
    last_ts: int


@dataclass(frozen=True, slots=True)
class StepBatchRow(_Batch):
    n_steps: int
    n_impact: int
    data: bytes
    cadence_estimated: bool = False


@dataclass(frozen=True, slots=True)
class ImuBatchRow(_Batch):
    """A raw batch: stored as it came (`samples.pack`), its steps detected in the same transaction."""

    rate_hz: float
    unit: str
    scale: float | None
    placement: str
    side: str | None
    data: bytes
    offsets_ms: bytes | None  # float64 per-sample times after first_ts, when the device gave them
    xyz_g: np.ndarray = field(compare=False, repr=False)

    @property
    def n_samples(self) -> int:
        return len(self.xyz_g)

    @property
    def offsets(self) -> np.ndarray | None:
        return None if self.offsets_ms is None else np.frombuffer(self.offsets_ms, dtype="<f8")


@dataclass(frozen=True, slots=True)
class SessionRow:
    team: str
    athlete: str
    device: str
    session_id: str
    event: str
    ts: int
    activity: str
    surface: str | None
    shoe_id: str | None
    placement: str | None
    duration_s: float | None
    distance_m: float | None
    rpe: float | None = None  # absent in feed rows written before migration 12


@dataclass(frozen=True, slots=True)
class PainRow:
    idx: int
    site: str
    side: str
    score: int
    kind: str


@dataclass(frozen=True, slots=True)
class WellnessRow:
    team: str
    athlete: str
    device: str
    ts: int
    note: str | None
    pain: tuple[PainRow, ...]

    @property
    def digest(self) -> str:
        """What the report says, hashed: a repeat with other content is told from a redelivery."""
        said = repr((self.note, self.pain)).encode("utf-8", "backslashreplace")
        return hashlib.blake2b(said, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class StatusRow:
    team: str
    athlete: str
    device: str
    ts: int
    online: bool
    battery_pct: float | None
    firmware: str | None


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    team: str | None
    topic: str  # as text any store keeps (`printable`)
    reason: str
    payload_excerpt: str  # the first ``EXCERPT_CHARS`` characters, as text any store keeps
    digest: str
    payload: bytes | None = None  # the raw bytes, at most ``MAX_PAYLOAD_BYTES``; None when not a message's


Record = StepBatchRow | ImuBatchRow | SessionRow | WellnessRow | StatusRow | DeadLetterRow


@dataclass
class Records:
    """What one store transaction writes, grouped by table, and in arrival order (``ordered``).

    Once written (`ingest.store.Store.write` returns a copy), the lists hold what the store took
    as new, and ``duplicates`` the records it already had, exactly as they came again (a record
    that repeats a stored key with other content is a dead letter instead)."""

    ordered: list[Record] = field(default_factory=list)
    steps: list[StepBatchRow] = field(default_factory=list)
    imu: list[ImuBatchRow] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    wellness: list[WellnessRow] = field(default_factory=list)
    status: list[StatusRow] = field(default_factory=list)
    dead: list[DeadLetterRow] = field(default_factory=list)
    duplicates: list[Record] = field(default_factory=list)

    @classmethod
    def of(cls, records: Iterable[Record]) -> Records:
        out = cls()
        for record in records:
            out.add(record)
        return out

    def copy(self) -> Records:
        """A copy whose lists can change without changing these."""
        return Records(*(list(getattr(self, f.name)) for f in fields(self)))

    def joined(self, other: Records) -> Records:
        """These records, then ``other``'s (what two transactions wrote, in their order)."""
        return Records(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def add(self, record: Record) -> None:
        self.ordered.append(record)
        match record:
            case StepBatchRow():
                self.steps.append(record)
            case ImuBatchRow():
                self.imu.append(record)
            case SessionRow():
                self.sessions.append(record)
            case WellnessRow():
                self.wellness.append(record)
            case StatusRow():
                self.status.append(record)
            case DeadLetterRow():
                self.dead.append(record)

    def set_duplicates(self, repeated: Collection[Record]) -> None:
        """Move ``repeated`` (found by identity: equal copies may be one new, one repeated) to ``duplicates``."""
        if not repeated:
            return
        ids = {id(r) for r in repeated}
        self.duplicates += [r for r in self.ordered if id(r) in ids]
        for f in fields(self):
            if f.name not in ("dead", "duplicates"):
                setattr(self, f.name, [r for r in getattr(self, f.name) if id(r) not in ids])

    def reject(self, row: StepBatchRow | ImuBatchRow | SessionRow | WellnessRow, reason: str) -> None:
        """Turn an accepted record into a dead letter, in its place in arrival order."""
        # By identity: two copies of one message are equal, and only this one goes.
        stream: Stream
        match row:
            case StepBatchRow():
                stream, excerpt, body = (
                    "steps",
                    f"seq {row.seq}, session {row.session_id}, {row.n_steps} steps",
                    row.data,
                )
            case ImuBatchRow():
                stream, body = "imu", row.data
                excerpt = f"seq {row.seq}, session {row.session_id}, {row.n_samples} samples from ts {row.first_ts}"
            case SessionRow():
                stream, excerpt = "session", f"{row.event} of session {row.session_id} at ts {row.ts}"
                body = repr(row).encode()
            case WellnessRow():
                stream, excerpt, body = (
                    "wellness",
                    f"report at ts {row.ts}, {len(row.pain)} pain entries",
                    row.digest.encode(),
                )
        topic = device_topic(row.team, row.athlete, row.device, stream)
        digest = hashlib.blake2b(topic.encode() + b"\0" + body, digest_size=16).hexdigest()
        dead = DeadLetterRow(row.team, topic, reason, excerpt, digest)
        for name in ("steps", "imu", "sessions", "wellness"):
            setattr(self, name, [r for r in getattr(self, name) if r is not row])
        self.ordered = [dead if r is row else r for r in self.ordered]
        self.dead.append(dead)

    def detected(self, placed: Sequence[tuple[Record, bool, list[StepBatchRow]]]) -> None:
        """Steps detected from imu batches, each list placed after its record in arrival order (or
        before it: a session's end); one pass, records found by identity."""
        after = {id(anchor): rows for anchor, before, rows in placed if not before}
        ahead = {id(anchor): rows for anchor, before, rows in placed if before}
        ordered: list[Record] = []
        for record in self.ordered:
            ordered += ahead.get(id(record), [])
            ordered.append(record)
            ordered += after.get(id(record), [])
        self.ordered = ordered
        self.steps += [row for _, _, rows in placed for row in rows]

    def __len__(self) -> int:
        return len(self.ordered)


def to_record(topic: str, payload: bytes, *, now_ms: int, max_future_ms: int) -> Record:
    """Validate one message; anything that breaks the contract becomes a `DeadLetterRow`."""
    try:
        where = parse_device_topic(topic)
        parsed = parse_payload(where, payload)
        _check_clock(parsed, now_ms, max_future_ms)
    except (TopicError, PayloadError) as exc:
        return dead_letter(topic, payload, str(exc))
    key = (where.team, where.athlete, where.device)
    match parsed:
        case StepsBatch():
            return StepBatchRow(
                *key,
                seq=parsed.seq,
                session_id=parsed.session_id,
                first_ts=parsed.steps[0]["ts"],
                last_ts=parsed.steps[-1]["ts"],
                n_steps=len(parsed.steps),
                n_impact=sum(s.get("impact_g") is not None for s in parsed.steps),
                data=pack_steps(parsed),
                cadence_estimated=parsed.cadence_source == "estimated",
            )
        case ImuBatch():
            offsets = None if parsed.t is None else np.asarray(parsed.t, dtype="<f8").tobytes()
            return ImuBatchRow(*key, parsed.seq, parsed.session_id, parsed.ts, parsed.last_ts, parsed.rate_hz,
                               parsed.unit, parsed.scale, parsed.placement, parsed.side,
                               samples.pack(parsed.values, parsed.scale), offsets, parsed.xyz_g)  # fmt: skip
        case SessionEvent():
            return SessionRow(
                *key,
                session_id=parsed.session_id,
                event=parsed.event,
                ts=parsed.ts,
                activity=parsed.activity,
                surface=parsed.surface,
                shoe_id=parsed.shoe_id,
                placement=parsed.placement,
                duration_s=parsed.duration_s,
                distance_m=parsed.distance_m,
                rpe=parsed.rpe,
            )
        case Wellness():
            pain = tuple(PainRow(i, p.site, p.side, p.score, p.kind) for i, p in enumerate(parsed.pain))
            return WellnessRow(*key, ts=parsed.ts, note=parsed.note, pain=pain)
        case Status():
            return StatusRow(*key, parsed.ts, parsed.online, parsed.battery_pct, parsed.firmware)
    raise AssertionError(f"unhandled payload {type(parsed).__name__}")  # pragma: no cover


def dead_letter(topic: str, payload: bytes, reason: str) -> DeadLetterRow:
    """A message that breaks the contract, as a row no store can refuse: its text is `printable`,
    its bytes kept as bytes."""
    excerpt = printable(payload[: EXCERPT_CHARS * 4])[:EXCERPT_CHARS]
    digest = hashlib.blake2b(topic.encode("utf-8", "replace") + b"\0" + payload, digest_size=16).hexdigest()
    return DeadLetterRow(
        team_of(topic), printable(topic), printable(reason), excerpt, digest, payload[:MAX_PAYLOAD_BYTES]
    )


def printable(text: str | bytes) -> str:
    """``text`` as valid UTF-8 without U+0000, so any store keeps it: bytes that are not UTF-8
    and NUL written as escapes (``\\xff``, ``\\x00``).

    >>> printable(b"\\xff\\xfe\\x00garbage")
    '\\\\xff\\\\xfe\\\\x00garbage'
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="backslashreplace")
    else:
        text = text.encode("utf-8", errors="backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def _check_clock(
    parsed: StepsBatch | ImuBatch | SessionEvent | Wellness | Status, now_ms: int, max_future_ms: int
) -> None:
    if isinstance(parsed, StepsBatch):
        stamps = (parsed.steps[0]["ts"], parsed.steps[-1]["ts"])
    else:
        stamps = (parsed.ts, parsed.last_ts if isinstance(parsed, ImuBatch) else parsed.ts)
    field = "steps[].ts" if isinstance(parsed, StepsBatch) else "ts"
    if min(stamps) < EARLIEST_TS:
        raise PayloadError(f"{field}: {min(stamps)} is before 2000-01-01: the device clock is not set")
    if max(stamps) > now_ms + max_future_ms:
        ahead = (max(stamps) - now_ms) / 1000
        raise PayloadError(f"{field}: {ahead:.0f} s in the future, beyond the {max_future_ms / 1000:.0f} s allowed")


def pack_steps(batch: StepsBatch) -> bytes:
    """Column-wise binary of a batch: lossless (float64), about 41 bytes a step."""
    steps = batch.steps
    return _pack(
        np.fromiter((s["ts"] for s in steps), dtype="<i8", count=len(steps)),
        np.fromiter((s["foot"] == "R" for s in steps), dtype="u1", count=len(steps)),
        # np.array turns an absent value (None) into NaN in a float64 column
        np.array([s["cadence_spm"] for s in steps], dtype="<f8"),
        np.array([s.get("impact_g") for s in steps], dtype="<f8"),
        np.array([s.get("elevation_m") for s in steps], dtype="<f8"),
        np.array([s.get("contact_ms") for s in steps], dtype="<f8"),
    )


def detected_steps(session: tuple[str, str, str, str], seq: int, rows: StepRows) -> StepBatchRow:
    """Steps detected from a session's imu stream, as a step batch of the session stored under ``seq``."""
    absent = np.full(len(rows), np.nan)
    data = _pack(rows.ts, rows.right, rows.cadence_spm, rows.impact_g, absent, absent)
    return StepBatchRow(
        *session[:3], seq, session[3], first_ts=int(rows.ts[0]), last_ts=int(rows.ts[-1]), n_steps=len(rows),
        n_impact=int(np.isfinite(rows.impact_g).sum()), data=data,
    )  # fmt: skip


def _pack(*columns: np.ndarray) -> bytes:
    return b"".join(
        np.ascontiguousarray(c, dtype=dtype).tobytes() for c, (_, dtype) in zip(columns, STEP_COLUMNS, strict=True)
    )


def unpack_steps(data: bytes, n_steps: int, *, cadence_estimated: bool = False) -> dict[str, np.ndarray]:
    """The inverse of `pack_steps`: column name -> array (NaN where a value was absent).

    A ``cadence_estimated`` batch's cadence comes back as NaN: a cadence modelled from GPS
    speed says nothing of the athlete's form, which is what the rules reading cadence
    (no_warmup, fatigue) judge.
    """
    out: dict[str, np.ndarray] = {}
    offset = 0
    for name, dtype in STEP_COLUMNS:
        width = np.dtype(dtype).itemsize * n_steps
        out[name] = np.frombuffer(data, dtype=dtype, count=n_steps, offset=offset)
        offset += width
    if cadence_estimated:
        out["cadence_spm"] = np.full(n_steps, np.nan)
    return out
