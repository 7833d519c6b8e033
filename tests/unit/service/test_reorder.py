"""The score worker's feed buffer: a record folds as soon as its order is known, waits only behind a gap
(bounded by the window), in event order per athlete; cursor moves; the feed's rows and partitions."""

from __future__ import annotations

import random
import zlib
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feed import decode, partition_of, write_feed
from ingest.records import PainRow, Records, SessionRow, StepBatchRow, WellnessRow
from stridewatch.services.reorder import FeedBuffer, Row

WINDOW = 1_000
T = 10_000
BATCH_MS = 1_000  # each batch's steps span 900 ms, the next starts 100 ms after


def steps(athlete: str, seq: int, session: str = "s1", *, device: str = "pod", at: int | None = None) -> StepBatchRow:
    first = BATCH_MS * seq if at is None else at
    return StepBatchRow("club", athlete, device, seq, session, first, first + 900, 3, 0, b"")


def event(athlete: str, kind: str, ts: int, session: str = "s1", device: str = "pod") -> SessionRow:
    return SessionRow(
        "club", athlete, device, session, kind, ts, "run", None, None, None, None, 0.0 if kind == "end" else None
    )


def report(athlete: str, ts: int) -> WellnessRow:
    return WellnessRow("club", athlete, "phone", ts, None, (PainRow(0, "knee", "L", 8, "sharp"),))


class Feed:
    """A buffer over partitions 0-2 and the rows given to it, numbered as the feed would."""

    def __init__(self) -> None:
        self.buffer = FeedBuffer(window_ms=WINDOW)
        for part in range(3):
            self.buffer.open(part, (0, 0))
        self.rows: list[Row] = []

    def add(self, *records: object, at: int = 0, part: int = 0) -> list[Row]:
        new = []
        for record in records:
            kind = (
                "steps"
                if isinstance(record, StepBatchRow)
                else "wellness"
                if isinstance(record, WellnessRow)
                else record.event
            )  # type: ignore[attr-defined]
            ts = record.first_ts if isinstance(record, StepBatchRow) else record.ts  # type: ignore[attr-defined]
            n = len(self.rows) + 1
            new.append(Row(id=n, part=part, xid=100 + n, kind=kind, ts=ts, received_at=at, record=record))
            self.rows.append(new[-1])
        self.buffer.add(new)
        return new

    def ready(self, now: int, *, known: int | None = None, limit: int | None = None) -> list[int]:
        rows = self.buffer.ready(now_ms=now, known_ms=known, limit=limit)
        self.buffer.fold(rows)
        return [r.id for r in rows]


def test_records_in_order_fold_as_soon_as_every_replica_has_marked_them_committed() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), at=10_000)
    feed.add(steps("ana", 1), at=10_100)
    assert feed.ready(10_100, known=9_990) == []  # another replica may still commit one of hers before them
    assert feed.ready(10_100, known=10_050) == [1, 2]  # marks past the first two: seq 1 waits on
    assert feed.ready(10_120, known=10_100) == [3]
    feed.add(steps("ana", 2), event("ana", "end", 3_000), at=10_150)
    assert feed.ready(10_150) == [4, 5]
    assert not feed.buffer.counts and feed.buffer.next_ready_ms() is None


def test_a_record_the_marks_never_reach_waits_its_window_at_most() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), at=10_000)
    assert feed.ready(10_000 + WINDOW - 1, known=0) == []
    assert feed.ready(10_000 + WINDOW, known=0) == [1, 2]  # a replica silent past its window holds no one for ever


def test_a_batch_past_a_missing_seq_waits_for_it_then_both_fold_in_order() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), at=10_000)
    assert feed.ready(T) == [1, 2]
    # seq 1 on its way; a report between seq 0 and seq 2 goes at once, one after them waits too
    feed.add(steps("ana", 2), event("ana", "end", 3_000), report("ana", 950), report("ana", 2_500), at=T + 10)
    assert feed.ready(T + 10) == [5]
    assert feed.buffer.next_ready_ms() == T + 10 + WINDOW
    feed.add(steps("ana", 1), at=T + 40)  # the other replica commits it
    assert feed.ready(T + 40) == [7, 3, 6, 4]
    assert feed.buffer.taken() == ({"gaps": 1}, [30])  # one gap, one wait: the rest only followed it


def test_a_gap_that_does_not_fill_is_given_up_after_the_window() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), steps("ana", 2), steps("ana", 3), at=10_000)
    assert feed.ready(T) == [1, 2]
    assert feed.ready(10_000 + WINDOW - 1) == []
    assert feed.ready(10_000 + WINDOW) == [3, 4]
    feed.add(steps("ana", 4), at=11_100)
    assert feed.ready(11_100) == [5]  # the gap given up: seq 4 follows seq 3
    feed.add(steps("ana", 1), at=11_200)  # it came after all: folded when it comes, counted late
    assert feed.ready(11_200) == [6]
    assert feed.buffer.counts == {"gaps": 1, "past_deadline": 1, "late": 1}


def test_steps_before_their_start_wait_for_it_on_a_known_device() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), event("ana", "end", 1_000), at=10_000)
    assert feed.ready(T) == [1, 2, 3]
    feed.add(steps("ana", 1, "s2", at=5_100), at=T + 100)  # its start is on the other replica
    assert feed.ready(T + 100) == []
    feed.add(event("ana", "start", 5_000, "s2"), at=T + 120)
    assert feed.ready(T + 120) == [5, 4]


def test_an_end_waits_for_a_last_batch_that_may_be_on_its_way() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), *(steps("ana", seq) for seq in range(3)), at=10_000)
    assert feed.ready(T) == [1, 2, 3, 4]
    feed.add(event("ana", "end", 3_000 + 12_000), at=T + 100)  # 12 s after the last step seen
    assert feed.ready(T + 100) == []
    feed.add(steps("ana", 3, at=14_000), at=T + 200)
    assert feed.ready(T + 200) == [6, 5]


def test_an_end_right_after_its_last_step_folds_at_once() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 0), event("ana", "end", 2_400), at=10_000)
    assert feed.ready(T) == [1, 2, 3]


def test_a_counter_that_restarts_with_a_new_session_is_no_gap() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 0), steps("ana", 40), steps("ana", 41), event("ana", "end", 42_000), at=10_000)
    assert feed.ready(T) == [1, 2, 3, 4]
    feed.add(event("ana", "start", 50_000, "s2"), steps("ana", 0, "s2", at=50_100), at=T + 100)
    assert feed.ready(T + 100) == [5, 6]


def test_only_the_athlete_behind_a_gap_waits() -> None:
    feed = Feed()
    feed.add(
        event("ana", "start", 0), steps("ana", 0), steps("ana", 2), event("ben", "start", 0), steps("ben", 0), at=10_000
    )
    assert feed.ready(T) == [1, 4, 2, 5]


def test_a_batch_takes_whole_athletes_up_to_the_limit() -> None:
    feed = Feed()
    for athlete in ("a0", "a1", "a2"):
        feed.add(event(athlete, "start", 0), steps(athlete, 0), steps(athlete, 1), at=0)
    ready = feed.buffer.ready(now_ms=0, limit=4)
    per_athlete = Counter(r.record.athlete for r in ready)
    assert sum(per_athlete.values()) == 6 and len(per_athlete) == 2  # whole athletes: 3 + 3, past the limit
    assert len(feed.buffer.ready(now_ms=0, limit=4)) == 3  # the athlete not taken comes next


def test_the_cursor_moves_over_the_longest_folded_run_only() -> None:
    feed = Feed()
    a, b = feed.add(event("ana", "start", 1), event("ben", "start", 1))
    (c,) = feed.add(event("cy", "start", 1), part=1)
    buffer = feed.buffer
    assert buffer.fold([a, c]) == {0: ((0, 0), a.key), 1: ((0, 0), c.key)}
    (d,) = feed.add(event("ana", "end", 2))
    assert buffer.fold([d]) == {}  # b, before d, is not folded: the cursor stays at a
    assert buffer.fold([b]) == {0: (a.key, d.key)}
    assert len(buffer) == 0 and buffer.read_from() == {0: d.key, 1: c.key, 2: (0, 0)}


def test_a_closed_partition_is_neither_read_nor_folded() -> None:
    feed = Feed()
    feed.add(event("ana", "start", 1))
    feed.add(event("cy", "start", 1), part=1)
    feed.buffer.close(1)
    feed.add(event("cy", "end", 2), part=1)
    assert feed.ready(0) == [1]
    assert set(feed.buffer.read_from()) == {0, 2}


def test_partitions_are_a_stable_hash_spread_over_all_of_them() -> None:
    athletes = [(f"team-{i % 7:02d}", f"a-{i:05d}") for i in range(6_400)]
    parts = Counter(partition_of(team, name, 64) for team, name in athletes)
    assert set(parts) == set(range(64))
    assert max(parts.values()) < 2 * min(parts.values())
    assert partition_of("club", "ana", 64) == zlib.crc32(b"club/ana") % 64  # the same in every process


class Cursor:
    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []

    def executemany(self, _sql: str, rows: list[tuple[object, ...]]) -> None:
        self.rows += rows


def test_a_feed_row_decodes_back_to_the_record_it_was_written_from() -> None:
    records = Records.of([event("ana", "start", 1_000), report("ana", 7_000)])
    cur = Cursor()
    write_feed(cur, records, sql=str, partitions=64, received_at=0)
    kinds = [r[1] for r in cur.rows]
    assert kinds == ["start", "wellness"]
    assert [decode(kind, r[-2], None) for kind, r in zip(kinds, cur.rows, strict=True)] == records.ordered  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(2, 30),
    st.sampled_from([0, 1, 3, 8]),
    st.lists(st.integers(0, 400), min_size=1, max_size=40),
    st.booleans(),
    st.sampled_from([None, 0, 50, 400]),
)
def test_whatever_the_arrival_order_each_record_folds_once_in_time_and_no_later_than_its_window(
    seed: int, batches: int, displacement: int, gaps_ms: list[int], lose_one: bool, lag: int | None
) -> None:
    """Two devices' sessions, their records shuffled by up to ``displacement`` places (two replicas'
    commits), arriving ``gaps_ms`` apart, one batch perhaps never, the replicas' marks ``lag`` behind:
    every record that came is folded
    exactly once and never later than its window; a device's batches fold in seq order whenever the
    shuffle stayed within the window (once the worker knows the device's counter); with no shuffle,
    nothing ever waits."""
    rng = random.Random(seed)
    stream: list[object] = []
    for athlete in ("ana", "ben"):
        stream += [event(athlete, "start", 0), *(steps(athlete, seq) for seq in range(batches)),
                   event(athlete, "end", BATCH_MS * batches)]  # fmt: skip
    order = sorted(range(len(stream)), key=lambda i: i + rng.uniform(0, displacement))
    lost = rng.choice([i for i, r in enumerate(stream) if isinstance(r, StepBatchRow)]) if lose_one else None
    feed, now, folded = Feed(), 0, []
    arrived: dict[int, int] = {}
    for k, i in enumerate(order):
        now += gaps_ms[k % len(gaps_ms)]
        if i != lost:
            (row,) = feed.add(stream[i], at=now)
            arrived[row.id] = now
        ready = feed.buffer.ready(now_ms=now, known_ms=None if lag is None else now - lag)
        folded += ready
        feed.buffer.fold(ready)
        left = [r for r in feed.rows if not r.folded]
        assert all(now < r.received_at + WINDOW for r in left), "a record held past its window"
    now += WINDOW
    ready = feed.buffer.ready(now_ms=now)
    feed.buffer.fold(ready)
    folded += ready
    assert sorted(r.id for r in folded) == sorted(arrived), "each record that came, folded once"
    assert feed.buffer.next_ready_ms() is None and len(feed.buffer) == 0
    if displacement == 0 and lost is None:
        assert not feed.buffer.counts
    span = max(arrived.values()) - min(arrived.values()) if arrived else 0
    if lost is None and span < WINDOW:  # a device whose first batch came first: its batches fold in seq order
        first_seen: dict[str, int] = {}
        for i in order:
            if isinstance(stream[i], StepBatchRow):
                first_seen.setdefault(stream[i].athlete, stream[i].seq)  # type: ignore[attr-defined]
        for athlete, first in first_seen.items():
            seqs = [r.record.seq for r in folded if r.kind == "steps" and r.record.athlete == athlete]
            assert first != 0 or seqs == sorted(seqs), f"{athlete}'s batches folded out of order: {seqs}"
