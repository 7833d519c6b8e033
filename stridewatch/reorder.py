"""What a score worker has read of its partitions' feeds, and which records it may fold now.

Ingest replicas split a device's stream between them, so an athlete's records can commit
out of order. A record is folded once it has been stored for the reorder window, together
with every record of the same athlete read so far that happened before it; the batch is
folded in event order. So records whose commits are at most ``window_ms`` apart in the
wrong order are folded in the right one, at a cost of ``window_ms`` of alert latency. A
record stored later than that is folded when it comes, and counted (``late``): the
athlete's state takes it (`scoring.TooLate` rebuilds it), but an alert judged without it
stands until the athlete's next event. Commits of two replicas drift apart when they lag
behind the broker, so the window must cover the lag a saturated replica can reach.

The cursor of a partition moves over the longest run of folded rows from its start; rows
folded beyond it are in the ``folded`` log, which a new owner skips (`stridewatch.score`).

Examples
--------
>>> buffer = FeedBuffer(window_ms=1000)
>>> buffer.open(3, (0, 0))
>>> from types import SimpleNamespace
>>> athlete = SimpleNamespace(team="club", athlete="ana")  # the record: an ingest.records row
>>> buffer.add([Row(id=1, part=3, xid=10, kind="end", ts=500, received_at=1000, record=athlete)])
>>> buffer.ready(now_ms=1500), [r.id for r in buffer.ready(now_ms=2000)]
([], [1])
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ingest.feed import fold_key

Key = tuple[int, int]  # (xid, id): a row's place in its partition's feed


@dataclass
class Row:
    """A feed row read and not yet behind its partition's cursor."""

    id: int
    part: int
    xid: int
    kind: str
    ts: int
    received_at: int  # the database's clock when ingest stored it
    record: Any  # ingest.feed.FeedRecord
    folded: bool = False

    @property
    def key(self) -> Key:
        return (self.xid, self.id)

    @property
    def athlete(self) -> tuple[str, str]:
        return (self.record.team, self.record.athlete)


class FeedBuffer:
    """Per owned partition: its committed cursor, how far it has been read, and the rows between.

    Each call costs what it returns and what came due since, not the rows buffered: rows wait
    in a heap by the time they are due, and athletes with a due row in ``_due`` (in the
    order they came due) with the latest due event time.
    """

    def __init__(self, *, window_ms: int) -> None:
        self.window_ms = window_ms
        self._rows: dict[int, deque[Row]] = {}
        self._cursor: dict[int, Key] = {}
        self._read: dict[int, Key] = {}
        self._last_ts: dict[int, dict[tuple[str, str], int]] = {}  # per partition, athlete: latest folded
        self._waiting: list[tuple[int, int, Row]] = []  # heap of (received_at, id, row)
        self._pending: dict[tuple[str, str], list[Row]] = {}  # per athlete, rows read and not folded
        self._due: dict[tuple[str, str], tuple[int, int]] = {}  # per athlete, (horizon ts, due since)
        self.late = 0

    def open(self, part: int, cursor: Key) -> None:
        """Start on a partition whose feed is folded up to ``cursor``."""
        self._rows[part], self._cursor[part], self._read[part], self._last_ts[part] = deque(), cursor, cursor, {}

    def close(self, part: int) -> None:
        """Forget a partition: what was read of it and not folded stays in the feed for its next owner."""
        for table in (self._rows, self._cursor, self._read, self._last_ts):
            table.pop(part, None)
        self._waiting = [entry for entry in self._waiting if entry[2].part != part]
        heapq.heapify(self._waiting)
        for athlete in [a for a, rows in self._pending.items() if rows[0].part == part]:
            del self._pending[athlete]
            self._due.pop(athlete, None)

    def read_from(self) -> dict[int, Key]:
        """Per partition, the key after which to read on."""
        return dict(self._read)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def add(self, rows: Iterable[Row]) -> None:
        """Rows read in (xid, id) order."""
        for row in rows:
            if row.part in self._rows:
                self._rows[row.part].append(row)
                self._read[row.part] = row.key
                self._pending.setdefault(row.athlete, []).append(row)
                heapq.heappush(self._waiting, (row.received_at, row.id, row))

    def ready(self, *, now_ms: int, limit: int | None = None) -> list[Row]:
        """The rows to fold now, in event order: each stored for the window, with every earlier
        record of its athlete read so far; whole athletes, about ``limit`` rows at most."""
        while self._waiting and self._waiting[0][0] + self.window_ms <= now_ms:
            received_at, _, row = heapq.heappop(self._waiting)
            if not row.folded:
                horizon, since = self._due.get(row.athlete, (row.ts, received_at + self.window_ms))
                self._due[row.athlete] = (max(horizon, row.ts), since)
        out: list[Row] = []
        for athlete, (horizon, _) in self._due.items():
            rows = [row for row in self._pending[athlete] if row.ts <= horizon]
            if limit is not None and out and len(out) + len(rows) > limit:
                break
            out += rows
        return sorted(out, key=lambda r: (*fold_key(r.record), r.id))

    def next_ready_ms(self) -> int | None:
        """When the oldest waiting row has been, or will have been, stored for the window."""
        while self._waiting and self._waiting[0][2].folded:  # folded with an earlier-due row of its athlete
            heapq.heappop(self._waiting)
        times = [since for _, since in itertools.islice(self._due.values(), 1)]
        times += [received_at + self.window_ms for received_at, _, _ in self._waiting[:1]]
        return min(times) if times else None

    def fold(self, rows: Iterable[Row]) -> dict[int, tuple[Key, Key]]:
        """Mark ``rows`` folded; per partition whose cursor moves, (old cursor, new cursor)."""
        parts, athletes = set(), set()
        for row in rows:
            row.folded = True
            parts.add(row.part)
            athletes.add(row.athlete)
            last = self._last_ts[row.part]
            if row.ts < last.get(row.athlete, row.ts):
                self.late += 1
            last[row.athlete] = max(row.ts, last.get(row.athlete, row.ts))
        for athlete in athletes:
            pending = [row for row in self._pending.pop(athlete, []) if not row.folded]
            if pending:
                self._pending[athlete] = pending
            if athlete in self._due and all(row.ts > self._due[athlete][0] for row in pending):
                del self._due[athlete]
        moves = {}
        for part in parts:
            queue, old = self._rows[part], self._cursor[part]
            new = old
            while queue and queue[0].folded:
                new = queue.popleft().key
            if new != old:
                moves[part] = (old, new)
                self._cursor[part] = new
        return moves
