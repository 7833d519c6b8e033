"""What a score worker has read of its partitions' feeds, and which records it may fold now.

Ingest replicas share the devices' streams round-robin (Mosquitto has no sticky or hashed
shared subscription), so one replica can commit a record before another commits one that
came before it. The worker folds each athlete's records in event order, and each record as
soon as nothing before it can still be on its way:

- *across replicas*: with each batch, a replica marks in the same transaction the time
  before which everything it received is committed (`ingest.feed.write_mark`; an idle one
  marks every 100 ms). A record stored before the oldest mark of the live replicas
  (``known_ms``) has nothing committed late before it; one stored after waits for the
  marks, which move with every commit: a few tens of milliseconds;
- *within a device*: its ``seq`` goes up by one per batch, and on from its previous session
  unless the counter restarts at 0 (CONTRACT.md, Additions), so the worker sees a *gap*
  when a step batch's seq is above the next one the device owes, when a session's steps or
  end come before its start, or when an end comes with a batch
  missing, or long after the last step seen (more than half a batch's span, and 3 s: its
  last batch may be on its way). A gap is the device's or its gateway's doing (a resend, a
  reorder in transit), and only the records behind it wait.

A record waits, with the records of its athlete after it in event order, until its order is
known or ``window_ms`` after it was stored; then what arrived is folded in event order and
the gap given up (a record that fills it later is folded when it comes, and counted late).
Starts and wellness reports have no gap of their own: they wait only behind their athlete's.
The worker knows a device from the rows it has read since it took the partition: what came
before is behind the cursor, folded (so a session in progress when its partition moved waits
the window once, for a start its former owner folded).

The cursor of a partition moves over the longest run of folded rows from its start; rows
folded beyond it are in the ``folded`` log, which a new owner skips (`stridewatch.services.score_worker`).
Each call costs what it returns and what changed since, not the rows buffered: athletes
with new rows are looked at once, and athletes that wait sit in heaps by when the wait ends.

Examples
--------
>>> from ingest.records import SessionRow, StepBatchRow
>>> buffer = FeedBuffer(window_ms=1000)
>>> buffer.open(3, (0, 0))
>>> def batch(id, seq):
...     steps = StepBatchRow("club", "ana", "pod", seq, "s1", 1000 * seq, 1000 * seq + 900, 3, 0, b"")
...     return Row(id=id, part=3, xid=10 + id, kind="steps", ts=1000 * seq, received_at=100, record=steps)
>>> start = SessionRow("club", "ana", "pod", "s1", "start", 0, "run", None, None, None, None, None)
>>> buffer.add([Row(id=1, part=3, xid=10, kind="start", ts=0, received_at=100, record=start), batch(2, 1), batch(3, 3)])
>>> buffer.ready(now_ms=130, known_ms=99)  # the replicas' marks are not past them yet
[]
>>> ready = buffer.ready(now_ms=140, known_ms=130)  # seq 3 waits for seq 2
>>> [r.id for r in ready], buffer.fold(ready)
([1, 2], {3: ((0, 0), (12, 2))})
>>> buffer.add([batch(4, 2)])  # stored at 100 too, by the other replica
>>> [r.id for r in buffer.ready(now_ms=160, known_ms=150)]  # the gap filled: folded at once, in order
[4, 3]
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingest.feed import fold_key
from ingest.records import SessionRow, StepBatchRow, WellnessRow

Key = tuple[int, int]  # (xid, id): a row's place in its partition's feed
Athlete = tuple[str, str]
Device = tuple[str, str, str]
END_SLACK_MS = 3_000  # an end this long after the last step seen may have a batch on its way


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
    waited: bool = False  # found behind a gap at least once

    @property
    def key(self) -> Key:
        return (self.xid, self.id)

    @property
    def athlete(self) -> Athlete:
        return (self.record.team, self.record.athlete)

    @property
    def device(self) -> Device:
        return (self.record.team, self.record.athlete, self.record.device)


@dataclass
class _Session:
    expects_start: bool = True  # a start not here is on its way (until the wait for it ends)
    started: bool = False
    seqs: set[int] = field(default_factory=set)
    last_step_ts: int | None = None
    span_ms: int = 0  # the longest batch seen


@dataclass
class _Stream:
    """What the worker knows of one device's stream: the next seq it owes, and its sessions."""

    next_seq: int | None  # None: no batch seen yet (the device's counter is not known)
    above: set[int] = field(default_factory=set)  # seqs seen past a missing one
    sessions: dict[str, _Session] = field(default_factory=dict)

    def session(self, session_id: str) -> _Session:
        return self.sessions.setdefault(session_id, _Session())

    def saw(self, seq: int) -> None:
        if self.next_seq is None:
            self.next_seq = seq
        if seq >= self.next_seq:
            self.above.add(seq)
        while self.next_seq in self.above:
            self.above.discard(self.next_seq)
            self.next_seq += 1

    def batch(self, record: StepBatchRow) -> None:
        session = self.session(record.session_id)
        if record.seq == 0 and not session.seqs and (self.next_seq or 0) > 1:
            self.next_seq, self.above = 0, set()  # the counter restarted, with a new session
        self.saw(record.seq)
        session.seqs.add(record.seq)
        session.last_step_ts = max(record.last_ts, session.last_step_ts or record.last_ts)
        session.span_ms = max(session.span_ms, record.last_ts - record.first_ts)

    def missing_before(self, record: StepBatchRow | SessionRow) -> bool:
        session = self.session(record.session_id)
        if session.expects_start and not session.started:
            return True
        if self.next_seq is None:
            return False
        if isinstance(record, StepBatchRow):
            return record.seq > self.next_seq
        if any(seq > self.next_seq for seq in session.seqs):
            return True
        last = session.last_step_ts
        return last is not None and record.ts - last > max(END_SLACK_MS, session.span_ms // 2)

    def give_up(self, record: StepBatchRow | SessionRow) -> None:
        """What ``record`` waited for is not coming within the window: go on without it."""
        session = self.session(record.session_id)
        session.expects_start = False
        if isinstance(record, SessionRow):
            session.last_step_ts = max(record.ts, session.last_step_ts or record.ts)
        last = record.seq if isinstance(record, StepBatchRow) else max(session.seqs, default=-1)
        if self.next_seq is not None and last >= self.next_seq:
            self.next_seq = min(seq for seq in self.above if seq <= last)
            self.saw(self.next_seq)


class FeedBuffer:
    """Per owned partition: its committed cursor, how far it has been read, and the rows between."""

    def __init__(self, *, window_ms: int) -> None:
        self.window_ms = window_ms
        self._rows: dict[int, deque[Row]] = {}
        self._cursor: dict[int, Key] = {}
        self._read: dict[int, Key] = {}
        self._streams: dict[Device, _Stream] = {}
        self._pending: dict[Athlete, list[Row]] = {}  # per athlete, rows read and not folded
        self._changed: dict[Athlete, None] = {}  # athletes with rows added since last looked at, in order
        self._waiting: list[tuple[int, Athlete]] = []  # heap of (when their wait ends, athlete)
        self._last_ts: dict[Device, int] = {}  # the latest event folded per device stream
        self._parts: dict[Athlete, int] = {}  # each athlete's partition
        self._ordering: list[tuple[int, Athlete]] = []  # heap of (stored at, athlete): waiting for the replicas' marks
        # Since the caller last took them (`taken`): rows folded after a later row of their device
        # (late), rows that waited for a gap (gaps), rows folded when their wait ended with the gap
        # unfilled (past_deadline), and how long each row that waited did (waits_ms).
        self.counts: Counter[str] = Counter()
        self.waits_ms: list[int] = []

    def open(self, part: int, cursor: Key) -> None:
        """Start on a partition whose feed is folded up to ``cursor``."""
        self._rows[part], self._cursor[part], self._read[part] = deque(), cursor, cursor

    def close(self, part: int) -> None:
        """Forget a partition: what was read of it and not folded stays in the feed for its next owner."""
        for table in (self._rows, self._cursor, self._read):
            table.pop(part, None)
        gone = {athlete for athlete, p in self._parts.items() if p == part}
        for athlete in gone:
            del self._parts[athlete]
            self._pending.pop(athlete, None)
            self._changed.pop(athlete, None)
        self._streams = {d: s for d, s in self._streams.items() if d[:2] not in gone}
        self._last_ts = {d: ts for d, ts in self._last_ts.items() if d[:2] not in gone}

    def read_from(self) -> dict[int, Key]:
        """Per partition, the key after which to read on."""
        return dict(self._read)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def add(self, rows: Iterable[Row]) -> None:
        """Rows read in (xid, id) order."""
        for row in rows:
            if row.part not in self._rows:
                continue
            self._rows[row.part].append(row)
            self._read[row.part] = row.key
            self._pending.setdefault(row.athlete, []).append(row)
            self._changed[row.athlete] = None
            self._parts[row.athlete] = row.part
            record = row.record
            if isinstance(record, WellnessRow):
                continue
            stream = self._streams.get(row.device)
            if stream is None:  # first seen: what came before is behind the cursor, folded
                stream = self._streams[row.device] = _Stream(next_seq=None)
            if isinstance(record, StepBatchRow):
                stream.batch(record)
            elif record.event == "start":
                stream.session(record.session_id).started = True

    def ready(self, *, now_ms: int, known_ms: int | None = None, limit: int | None = None) -> list[Row]:
        """The rows to fold now, in event order: whole athletes, about ``limit`` rows at most.
        ``known_ms``: every record stored (``received_at``) up to it is read (the replicas' commit
        marks, `stridewatch.services.score_worker`); None: all of them are."""
        known = now_ms if known_ms is None else known_ms
        for heap, until in ((self._waiting, now_ms), (self._ordering, known)):
            while heap and heap[0][0] <= until:
                _, athlete = heapq.heappop(heap)
                if athlete in self._pending:
                    self._changed[athlete] = None
        out: list[Row] = []
        for athlete in list(self._changed):
            if limit is not None and out and len(out) >= limit:
                break
            del self._changed[athlete]
            out += self._ready_rows(athlete, now_ms, known_ms)
        return sorted(out, key=lambda r: (*fold_key(r.record), r.id))

    def _ready_rows(self, athlete: Athlete, now_ms: int, known_ms: int | None) -> list[Row]:
        """The athlete's rows in event order up to the first that may still have a record before it on
        its way (one stored after what every replica has marked, or one behind a gap), past every row
        whose wait has ended: no row waits longer than its own window."""
        rows = sorted(self._pending.get(athlete, []), key=lambda r: (*fold_key(r.record), r.id))
        due = max((i for i, row in enumerate(rows) if row.received_at + self.window_ms <= now_ms), default=-1)
        for i, row in enumerate(rows):
            record = row.record
            if i > due and known_ms is not None and row.received_at > known_ms:
                heapq.heappush(self._ordering, (row.received_at, athlete))
                self._wait(athlete, rows[i:])
                return rows[:i]
            if isinstance(record, WellnessRow) or (isinstance(record, SessionRow) and record.event == "start"):
                continue  # nothing of its own can be missing before it
            stream = self._streams[row.device]
            if not stream.missing_before(record):
                continue
            if i > due:
                if not row.waited:
                    row.waited = True
                    self.counts["gaps"] += 1
                self._wait(athlete, rows[i:])
                rows = rows[:i]
                break
            stream.give_up(record)
            self.counts["past_deadline"] += 1
        self.waits_ms += [now_ms - row.received_at for row in rows if row.waited]
        return rows

    def _wait(self, athlete: Athlete, rows: list[Row]) -> None:
        heapq.heappush(self._waiting, (min(r.received_at for r in rows) + self.window_ms, athlete))

    def taken(self) -> tuple[Counter[str], list[int]]:
        """The counts and waits since the last call."""
        counts, waits = self.counts, self.waits_ms
        self.counts, self.waits_ms = Counter(), []
        return counts, waits

    def next_ready_ms(self) -> int | None:
        """When there may be rows to fold: now (0) if rows came, else when the first wait ends."""
        if self._changed:
            return 0
        while self._waiting and self._waiting[0][1] not in self._pending:
            heapq.heappop(self._waiting)
        return self._waiting[0][0] if self._waiting else None

    def fold(self, rows: Iterable[Row]) -> dict[int, tuple[Key, Key]]:
        """Mark ``rows`` folded; per partition whose cursor moves, (old cursor, new cursor)."""
        parts, athletes = set(), set()
        for row in rows:
            row.folded = True
            parts.add(row.part)
            athletes.add(row.athlete)
            if not isinstance(row.record, WellnessRow):
                last = self._last_ts.get(row.device, row.ts)
                if row.ts < last:
                    self.counts["late"] += 1
                self._last_ts[row.device] = max(row.ts, last)
        for athlete in athletes:
            pending = [row for row in self._pending.pop(athlete, []) if not row.folded]
            if pending:
                self._pending[athlete] = pending
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
