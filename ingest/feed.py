"""The feed: each stored record once, in commit order per partition, for scoring workers to fold.

On PostgreSQL, `Store.write` adds one feed row per step batch, session event and wellness
report it stores, in the same transaction, tagged with the athlete's partition (a stable
hash of team and athlete) and the transaction's id (``pg_current_xact_id()``). A worker
that reads a partition's rows above its cursor and below ``pg_snapshot_xmin`` sees every
transaction that can still commit below that bound finished, so one that commits late
is never skipped (`stridewatch.score`). A redelivered message is stored once and so
fed once (the feed's unique key is the record's). Step data stays in ``step_batches``;
a feed row carries the record's other fields as JSON.

Examples
--------
>>> partition_of("club", "ana", 64) == partition_of("club", "ana", 64)
True
>>> 0 <= partition_of("club", "ana", 64) < 64
True
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Callable
from typing import Any

from ingest.records import PainRow, Records, SessionRow, StepBatchRow, WellnessRow

FeedRecord = StepBatchRow | SessionRow | WellnessRow
# Within one event time: a session's start, then its steps, its end, then a report after it.
RANK = {"start": 0, "steps": 1, "end": 2, "wellness": 3}
# A feed row's fields; a step batch's data is read back from step_batches.
_NAMES = {
    kind: tuple(f.name for f in dataclasses.fields(kind) if f.name != "data")
    for kind in (StepBatchRow, SessionRow, WellnessRow)
}


def fold_key(record: FeedRecord) -> tuple[int, int]:
    """A record's place in its athlete's event order (`RANK` within one time), for a stable sort
    that keeps arrival order between equals: how both `stridewatch run` and the score workers fold."""
    match record:
        case StepBatchRow():
            return record.first_ts, RANK["steps"]
        case SessionRow():
            return record.ts, RANK[record.event]
        case WellnessRow():
            return record.ts, RANK["wellness"]


def partition_of(team: str, athlete: str, partitions: int) -> int:
    """The athlete's partition: CRC-32 of ``team/athlete``, the same in every process and release."""
    return zlib.crc32(f"{team}/{athlete}".encode()) % partitions


def write_feed(cur: Any, r: Records, *, sql: Callable[[str], str], partitions: int, received_at: int) -> None:
    """Feed the step batches, session events and wellness reports of ``r``, in arrival order;
    ``received_at``: when the batch was taken in, every record of it received before (the
    database's clock)."""
    rows = [
        (*_row(record, partitions), received_at)
        for record in r.ordered
        if isinstance(record, StepBatchRow | SessionRow | WellnessRow)
    ]
    if rows:
        cur.executemany(
            sql("INSERT INTO feed (part, xid, kind, team, athlete, device, session_id, seq, ts, record, received_at) "
                "VALUES (?, pg_current_xact_id()::text::bigint, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
            rows,
        )  # fmt: skip


def write_mark(cur: Any, *, sql: Callable[[str], str], replica: str, received_before: int) -> None:
    """Mark, in the transaction that commits a replica's batch, that every message it received before
    ``received_before`` (the database's clock: its oldest message not in this batch, or the batch's
    taking) is committed by now."""
    cur.execute(
        sql("INSERT INTO feed_marks (replica, xid, received_before, marked_at) VALUES "
            "(?, pg_current_xact_id()::text::bigint, ?, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
            "ON CONFLICT DO NOTHING"),
        (replica, received_before),
    )  # fmt: skip


def _row(record: FeedRecord, partitions: int) -> tuple[Any, ...]:
    # Shallow, by name: `dataclasses.asdict` deep-copies, and cost more than the insert.
    fields = {name: getattr(record, name) for name in _NAMES[type(record)]}
    match record:
        case StepBatchRow():
            kind, session_id, seq, ts = "steps", record.session_id, record.seq, record.first_ts
        case SessionRow():
            kind, session_id, seq, ts = record.event, record.session_id, 0, record.ts
        case WellnessRow():
            fields["pain"] = [dataclasses.asdict(pain) for pain in record.pain]
            kind, session_id, seq, ts = "wellness", "", record.ts, record.ts
    part = partition_of(record.team, record.athlete, partitions)
    return (part, kind, record.team, record.athlete, record.device, session_id, seq, ts,
            json.dumps(fields, separators=(",", ":")))  # fmt: skip


def decode(kind: str, record: str, data: bytes | None) -> FeedRecord:
    """The record of a feed row (``data``: its step batch's, for ``steps``)."""
    fields = json.loads(record)
    if kind == "steps":
        if data is None:
            raise ValueError(f"feed row of step batch {fields['seq']} has no stored steps")
        return StepBatchRow(**fields, data=bytes(data))
    if kind == "wellness":
        return WellnessRow(**fields | {"pain": tuple(PainRow(**p) for p in fields["pain"])})
    return SessionRow(**fields)
