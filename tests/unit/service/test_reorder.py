"""The score worker's feed buffer: the reorder window, event order per athlete, cursor moves."""

from __future__ import annotations

import zlib
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feed import RANK, decode, partition_of, write_feed
from ingest.records import PainRow, Records, SessionRow, WellnessRow
from stridewatch.reorder import FeedBuffer, Row

WINDOW = 1_000


def session(athlete: str, event: str, ts: int) -> SessionRow:
    return SessionRow("club", athlete, "pod", f"{athlete}-s", event, ts, "run", None, None, None, None, None)


def row(id: int, athlete: str, ts: int, received_at: int, *, kind: str = "start", part: int = 0) -> Row:
    return Row(id=id, part=part, xid=100 + id, kind=kind, ts=ts, received_at=received_at,
               record=session(athlete, kind, ts))  # fmt: skip


def opened(*parts: int) -> FeedBuffer:
    buffer = FeedBuffer(window_ms=WINDOW)
    for part in parts:
        buffer.open(part, (0, 0))
    return buffer


def test_a_row_waits_exactly_the_window() -> None:
    buffer = opened(0)
    buffer.add([row(1, "ana", ts=50, received_at=10_000)])
    assert buffer.ready(now_ms=10_000 + WINDOW - 1) == []
    assert buffer.next_ready_ms() == 10_000 + WINDOW
    assert [r.id for r in buffer.ready(now_ms=10_000 + WINDOW)] == [1]


def test_records_committed_out_of_order_within_the_window_fold_in_event_order() -> None:
    buffer = opened(0)
    # the end committed first, the start 900 ms later (another replica's transaction)
    buffer.add([row(1, "ana", ts=2_000, received_at=10_000, kind="end")])
    buffer.add([row(2, "ana", ts=1_000, received_at=10_900, kind="start")])
    ready = buffer.ready(now_ms=10_000 + WINDOW)
    assert [(r.kind, r.ts) for r in ready] == [("start", 1_000), ("end", 2_000)]
    buffer.fold(ready)
    assert buffer.late == 0


def test_a_record_later_than_the_window_is_folded_after_what_came_before() -> None:
    buffer = opened(0)
    buffer.add([row(1, "ana", ts=2_000, received_at=10_000, kind="end")])
    first = buffer.ready(now_ms=10_000 + WINDOW)
    buffer.fold(first)
    buffer.add([row(2, "ana", ts=1_000, received_at=10_000 + WINDOW + 1, kind="start")])
    assert [r.id for r in first] == [1]
    assert buffer.ready(now_ms=10_000 + WINDOW + 1) == []  # it waits its own window, then comes late
    late = buffer.ready(now_ms=10_000 + 2 * WINDOW + 1)
    assert [r.id for r in late] == [2] and buffer.late == 0
    buffer.fold(late)
    assert buffer.late == 1


def test_an_earlier_record_of_the_athlete_goes_with_a_ready_one_and_other_athletes_wait() -> None:
    buffer = opened(0)
    buffer.add([
        row(1, "ana", ts=5_000, received_at=10_000, kind="end"),
        row(2, "ana", ts=1_000, received_at=10_800),  # stored later, happened earlier: folded with id 1
        row(3, "ana", ts=9_000, received_at=10_800, kind="end"),  # happened after: waits its window
        row(4, "ben", ts=1_000, received_at=10_500),
    ])  # fmt: skip
    assert [r.id for r in buffer.ready(now_ms=10_000 + WINDOW)] == [2, 1]


def test_a_batch_takes_whole_athletes_up_to_the_limit() -> None:
    buffer = opened(0)
    buffer.add([row(i, f"a{i % 3}", ts=i, received_at=0) for i in range(1, 10)])
    ready = buffer.ready(now_ms=WINDOW, limit=4)
    per_athlete = Counter(r.record.athlete for r in ready)
    assert sum(per_athlete.values()) == 3 and len(per_athlete) == 1  # one athlete's 3 rows, not 4 of two


def test_the_cursor_moves_over_the_longest_folded_run_only() -> None:
    buffer = opened(0, 1)
    a, b, c = row(1, "ana", ts=1, received_at=0), row(2, "ben", ts=1, received_at=5_000), row(3, "cy", 1, 0, part=1)
    buffer.add([a, b, c])
    assert buffer.fold([a, c]) == {0: ((0, 0), a.key), 1: ((0, 0), c.key)}
    d = row(4, "ana", ts=2, received_at=0)
    buffer.add([d])
    assert buffer.fold([d]) == {}  # b, before d, is not folded: the cursor stays at a
    assert buffer.fold([b]) == {0: (a.key, d.key)}
    assert len(buffer) == 0 and buffer.read_from() == {0: d.key, 1: c.key}


def test_a_closed_partition_is_neither_read_nor_folded() -> None:
    buffer = opened(0, 1)
    buffer.add([row(1, "ana", ts=1, received_at=0), row(2, "cy", ts=1, received_at=0, part=1)])
    buffer.close(1)
    buffer.add([row(3, "cy", ts=2, received_at=0, part=1)])
    assert [r.id for r in buffer.ready(now_ms=WINDOW)] == [1]
    assert set(buffer.read_from()) == {0}


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
    report = WellnessRow("club", "ana", "phone", 7_000, "sore", (PainRow(0, "knee", "L", 4, "ache"),))
    records = Records()
    for record in (session("ana", "start", 1_000), report):
        records.add(record)
    cur = Cursor()
    write_feed(cur, records, sql=str, partitions=64)
    kinds = [r[1] for r in cur.rows]
    assert kinds == ["start", "wellness"]
    assert [decode(kind, r[-1], None) for kind, r in zip(kinds, cur.rows, strict=True)] == records.ordered  # type: ignore[arg-type]


def scan(rows: list[Row], now_ms: int) -> list[int]:
    """What `FeedBuffer.ready` must return, by its definition, from every unfolded row."""
    waiting = [r for r in rows if not r.folded]
    horizon: dict[str, int] = {}
    for r in waiting:
        if r.received_at + WINDOW <= now_ms:
            horizon[r.record.athlete] = max(r.ts, horizon.get(r.record.athlete, r.ts))
    chosen = [r for r in waiting if r.record.athlete in horizon and r.ts <= horizon[r.record.athlete]]
    return [r.id for r in sorted(chosen, key=lambda r: (r.ts, RANK[r.kind], r.id))]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["ana", "ben", "cy"]), st.integers(0, 50), st.integers(0, 3_000)), max_size=40),
    st.lists(st.integers(0, 800), min_size=1, max_size=12),
    st.integers(1, 6),
)
def test_ready_is_the_definition_whatever_the_arrivals_and_the_limit(
    arrivals: list[tuple[str, int, int]], steps: list[int], limit: int
) -> None:
    buffer = opened(*range(3))
    added: list[Row] = []
    now = 0
    for i, step in enumerate(steps):
        now += step
        new = [row(len(added) + j + 1, a, ts, at, part=ord(a[0]) % 3) for j, (a, ts, at) in
               enumerate(arrivals[i::len(steps)])]  # fmt: skip
        buffer.add(sorted(new, key=lambda r: (r.part, r.xid)))
        added += new
        expected = scan(added, now)
        assert [r.id for r in buffer.ready(now_ms=now)] == expected
        some = buffer.ready(now_ms=now, limit=limit)
        athletes = {r.record.athlete for r in some}
        assert [r.id for r in some] == [i for i in expected if added[i - 1].record.athlete in athletes]
        assert not expected or some, "the limit stopped a batch before its first athlete"
        buffer.fold(some)
    assert buffer.next_ready_ms() is None or buffer.next_ready_ms() >= min(r.received_at for r in added) + WINDOW
