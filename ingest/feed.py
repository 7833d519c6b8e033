"""The feed: each stored record once, in commit order per partition, for scoring workers to fold.

On PostgreSQL, `Store.write` adds one feed row per step batch, session event and wellness
report it stores, in the same transaction, tagged with the athlete's partition (a stable
hash of team and athlete) and the transaction's id (``pg_current_xact_id()``). A worker
that reads a partition's rows above its cursor and below ``pg_snapshot_xmin`` sees every
transaction that can still commit below that bound finished, so one that commits late
is never skipped (`stridewatch.services.score_worker`). A redelivered message is stored once and so
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
from typing import TYPE_CHECKING, Any

from ingest.errors import IngestError
from ingest.records import PainRow, Records, SessionRow, StepBatchRow, WellnessRow

if TYPE_CHECKING:
    from ingest.store import Store, Unit

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


class CursorMoved(IngestError, RuntimeError):
    """A partition's cursor is not where this worker left it: another worker folds the partition now."""


class FeedReader:
    """The feed's reading side, for the score workers: each partition's cursor, the rows above it, the
    processed log (``folded``), the replicas' commit marks, pruning. The one owner of those tables'
    SQL besides the writing side above (`write_feed`, `write_mark`, in ingest's transaction)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def is_empty(self) -> bool:
        return int(self._store.query("SELECT count(*) FROM feed")[0][0]) == 0

    def cursors(self, parts: list[int], *, worker: str, now_ms: int) -> dict[int, tuple[int, int]]:
        """Each partition's cursor (xid, id), made at the start for a partition never folded."""

        def run(cur: Any) -> dict[int, tuple[int, int]]:
            cur.executemany(
                self._store.sql("INSERT INTO feed_cursors (part, xid, id, worker, updated_at) VALUES (?,0,0,?,?) "
                                "ON CONFLICT (part) DO NOTHING"),
                [(p, worker, now_ms) for p in parts],
            )  # fmt: skip
            cur.execute(self._store.sql("SELECT part, xid, id FROM feed_cursors WHERE part = ANY(?)"), (parts,))
            return {int(p): (int(x), int(i)) for p, x, i in cur.fetchall()}

        return self._store.transaction(run)  # type: ignore[no-any-return]

    def replicas(self) -> list[str]:
        """The ingest replicas that have marked their commits."""
        return [r for (r,) in self._store.query("SELECT DISTINCT replica FROM feed_marks")]

    def marks(self, replicas: list[str]) -> list[tuple[str, int, int | None]]:
        """Per replica: when it last marked, and its latest mark the next read of the feed can see (below
        ``pg_snapshot_xmin``), None if none yet. Two short walks of the primary key each."""
        rows = self._store.query(
            "WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) "
            "SELECT r.replica, "
            "(SELECT m.marked_at FROM feed_marks m WHERE m.replica = r.replica ORDER BY m.xid DESC LIMIT 1), "
            "(SELECT m.received_before FROM feed_marks m WHERE m.replica = r.replica AND m.xid < h.xmin "
            "ORDER BY m.xid DESC LIMIT 1) "
            "FROM h CROSS JOIN unnest(?::text[]) AS r(replica)",
            (replicas,),
        )
        return [(replica, int(heard), None if visible is None else int(visible)) for replica, heard, visible in rows]

    def read(self, positions: dict[int, tuple[int, int]], *, per_part: int) -> list[tuple[Any, ...]]:
        """Rows above each partition's position and below ``pg_snapshot_xmin`` (a transaction that commits
        late is never skipped), not in the processed log, with their steps: (id, part, xid, kind, ts,
        received_at, record, data)."""
        parts = sorted(positions)
        # Per partition, an index range scan that stops at its share of the rows: one scan over
        # all the partitions' rows, sorted and then cut, would cost the whole backlog on every read.
        return self._store.query(
            "WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) "
            "SELECT f.id, f.part, f.xid, f.kind, f.ts, f.received_at, f.record, s.data "
            "FROM unnest(?::int[], ?::bigint[], ?::bigint[]) AS c(part, xid, id) CROSS JOIN horizon h "
            "CROSS JOIN LATERAL (SELECT * FROM feed f WHERE f.part = c.part AND (f.xid, f.id) > (c.xid, c.id) "
            "AND f.xid < h.xmin AND NOT EXISTS (SELECT 1 FROM folded d WHERE d.id = f.id) "
            "ORDER BY f.xid, f.id LIMIT ?) f "
            "LEFT JOIN step_batches s ON f.kind = 'steps' AND s.team = f.team AND s.athlete = f.athlete "
            "AND s.device = f.device AND s.session_id = f.session_id AND s.seq = f.seq "
            "ORDER BY f.part, f.xid, f.id",
            (parts, [positions[p][0] for p in parts], [positions[p][1] for p in parts], per_part),
        )  # fmt: skip

    def folded(
        self, unit: Unit, rows: list[tuple[int, int]], moves: dict[int, tuple[tuple[int, int], tuple[int, int]]],
        *, worker: str, now_ms: int,
    ) -> None:  # fmt: skip
        """With ``unit``: the rows (id, part) into the processed log, each moved cursor compared and set
        (`CursorMoved` when another worker moved it: the unit rolls back)."""

        def run(cur: Any) -> None:
            cur.executemany(
                self._store.sql("INSERT INTO folded (id, part, worker, folded_at) VALUES (?,?,?,?)"),
                [(i, part, worker, now_ms) for i, part in rows],
            )
            for part, (old, new) in sorted(moves.items()):
                cur.execute(
                    self._store.sql("UPDATE feed_cursors SET xid = ?, id = ?, worker = ?, updated_at = ? "
                                    "WHERE part = ? AND xid = ? AND id = ?"),
                    (*new, worker, now_ms, part, *old),
                )  # fmt: skip
                if cur.rowcount != 1:
                    raise CursorMoved(f"partition {part}'s cursor moved under worker {worker}")

        unit.write(run)

    def pass_over(self, rows: list[tuple[int, int]], *, worker: str, now_ms: int) -> None:
        """Rows (id, part) no one can read, into the processed log, which every reader skips."""
        self._store.transaction(lambda cur: cur.executemany(
            self._store.sql("INSERT INTO folded (id, part, worker, folded_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING"),
            [(i, part, worker, now_ms) for i, part in rows]))  # fmt: skip

    def prune(self, parts: list[int], *, folded_before: int, marks_before: int) -> None:
        """The partitions' rows behind their cursors and stored before ``folded_before``, with their log;
        the marks made before ``marks_before`` but each replica's latest (it says when it was heard)."""
        self._store.query(
            "WITH gone AS (DELETE FROM feed f USING feed_cursors c WHERE c.part = f.part AND f.part = ANY(?) "
            "AND (f.xid, f.id) <= (c.xid, c.id) AND f.received_at < ? RETURNING f.id) "
            "DELETE FROM folded WHERE id IN (SELECT id FROM gone)",
            (parts, folded_before),
        )
        self._store.query(
            "DELETE FROM feed_marks m WHERE m.marked_at < ? "
            "AND m.xid < (SELECT max(n.xid) FROM feed_marks n WHERE n.replica = m.replica)",
            (marks_before,),
        )
