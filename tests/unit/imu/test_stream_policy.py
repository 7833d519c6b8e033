"""One session's batches through `StreamState`: held and reordered, holes filled, overlaps refused, the end settled.

The reference is always the same signal detected in one pass (streaming equals offline).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.imu import HOLD_S, RawBatch, StepRows, StreamState, batch_seq, end_seq
from tests.unit.imu.recordings import RATE_HZ, Signal, detect, pod_session

ROPE = pod_session("jump_rope_spike", 0)[0]
PER_BATCH = 100  # a second a batch, as pods send
WHOLE = detect(ROPE)


def batches(signal: Signal = ROPE, first_seq: int = 0) -> list[RawBatch]:
    out = []
    for k, a in enumerate(range(0, len(signal.xyz_g), PER_BATCH)):
        ts, rate, xyz, _ = signal.batch(a, a + PER_BATCH)
        last = ts + round((len(xyz) - 1) * 1000 / rate)
        out.append(RawBatch(first_seq + k, ts, last, rate, signal.placement, signal.side, xyz, None))
    return out


class Session:
    """What the store does for one stream, in memory: admit, hold, advance, keep the state as bytes."""

    def __init__(self, previous_seq: int | None = None) -> None:
        self.state: bytes | None = None
        self.held: list[RawBatch] = []
        self.steps: dict[int, StepRows] = {}
        self.dead: dict[int, str] = {}
        self.previous_seq = previous_seq

    def deliver(self, *arriving: RawBatch, end_ms: int | None = None, force: bool = False) -> None:
        state = StreamState.decode(self.state) if self.state else StreamState.start(arriving[0])
        for batch in arriving:
            reason = state.admit(batch, self.held)
            if reason is None:
                self.held.append(batch)
            else:
                self.dead[batch.seq] = reason
        previous = self.previous_seq if state.last_ms is None else None
        self.end_ms = end_ms or getattr(self, "end_ms", None)
        results, self.held = state.advance(self.held, end_ms=self.end_ms, previous_seq=previous, force=force)
        for seq, rows in results:
            assert seq not in self.steps, "a seq stored twice"
            self.steps[seq] = rows
        self.state = state.encode()

    def end(self) -> None:
        """The session's end arrives: it ended with the pod's last sample."""
        self.deliver(end_ms=batches()[-1].last_ts)

    def found(self) -> StepRows:
        rows = list(self.steps.values())
        merged = StepRows(*(np.concatenate(c) for c in zip(*rows, strict=True)))
        order = np.argsort(merged.ts, kind="stable")
        return StepRows(*(c[order] for c in merged))


def assert_same(a: StepRows, b: StepRows) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_batches_in_order_equal_one_pass_and_the_end_settles_the_rest() -> None:
    session = Session()
    for batch in batches():
        session.deliver(batch)
    before_end = sum(len(r) for r in session.steps.values())
    session.end()
    assert_same(session.found(), WHOLE)
    assert end_seq(batches()[-1].seq) in session.steps or before_end == len(WHOLE)
    assert set(session.steps) <= {batch_seq(b.seq) for b in batches()} | {end_seq(batches()[-1].seq)}


@settings(max_examples=25, deadline=None)
@given(window=st.integers(2, 25), seed=st.integers(0, 2**32 - 1))
def test_batches_shuffled_within_the_hold_equal_one_pass(window: int, seed: int) -> None:
    """QoS 1 redelivery and gateways reorder within seconds: held until the gap is filled, exact."""
    order = batches()
    rng = np.random.default_rng(seed)
    shuffled = list(itertools.chain.from_iterable(
        [order[i] for i in i0 + rng.permutation(len(order[i0 : i0 + window]))] for i0 in range(0, len(order), window)
    ))  # fmt: skip
    session = Session()
    for batch in shuffled:
        session.deliver(batch)
    session.end()
    assert not session.dead
    assert_same(session.found(), WHOLE)


@pytest.mark.parametrize(("previous_seq", "at_once"), [(None, True), (6, True), (5, False)])
def test_a_sessions_first_batch_is_known_by_the_devices_seq(previous_seq: int | None, at_once: bool) -> None:
    first = batches(first_seq=0 if previous_seq is None else 7)[0]
    session = Session(previous_seq)
    session.deliver(first)
    assert (batch_seq(first.seq) in session.steps or not session.held) == at_once
    assert (not session.held) == at_once


@pytest.mark.parametrize(("later_s", "waits"), [(HOLD_S - 2, True), (HOLD_S + 2, False)])
def test_a_gap_is_held_up_to_the_hold_then_taken_as_lost(later_s: float, waits: bool) -> None:
    order = batches()
    session = Session()
    session.deliver(*order[:10])
    missing = order[10]
    after = [b for b in order[11:] if b.last_ts - order[9].last_ts <= later_s * 1000]
    session.deliver(*after)
    assert bool(session.held) == waits
    session.deliver(missing)  # late: into the stream if it waited, on its own into the hole if not
    session.deliver(*order[11 + len(after) :])
    session.end()
    assert not session.dead and not session.held
    found = session.found()
    if waits:
        assert_same(found, WHOLE)
    else:  # the stream took the gap as lost; the hole's second was detected alone: only its edges differ
        assert abs(len(found) - len(WHOLE)) <= 4


def test_overlapping_samples_are_refused_with_the_times() -> None:
    order = batches()
    session = Session()
    session.deliver(*order[:5])
    again = order[3]._replace(seq=99)
    session.deliver(again)
    assert session.dead[99].startswith("ts: must not overlap the samples of another batch of this session (samples")


def test_a_batch_of_another_sensor_is_refused() -> None:
    order = batches()
    session = Session()
    session.deliver(order[0])
    session.deliver(order[1]._replace(placement="foot"))
    assert session.dead[1].startswith("placement: must stay the session's sensor")


def test_an_end_that_overtakes_the_last_batches_waits_for_them() -> None:
    order = batches()
    session = Session()
    session.deliver(*order[:-20], end_ms=order[-1].last_ts)
    assert end_seq(order[-21].seq) not in session.steps
    session.deliver(*order[-20:])
    assert_same(session.found(), WHOLE)


def test_a_gap_at_the_end_waits_until_the_device_moves_on() -> None:
    """The end alone forces nothing (it may have overtaken the missing batch); the device's next session does."""
    order = batches()
    missing = order[-5]
    session = Session()
    session.deliver(*(b for b in order if b is not missing), end_ms=order[-1].last_ts)
    assert [b.seq for b in session.held] == [b.seq for b in order[-4:]]
    session.deliver(force=True)  # the pod's next session has begun
    assert not session.held
    assert session.state is not None and StreamState.decode(session.state).finished
    session.deliver(missing)  # too late: on its own, into the hole
    assert not session.dead and not session.held
    assert abs(len(session.found()) - len(WHOLE)) <= 4  # only around the hole


def test_a_gap_at_the_end_filled_in_time_is_exact() -> None:
    order = batches()
    session = Session()
    session.deliver(*order[:-5], *order[-4:], end_ms=order[-1].last_ts)
    session.deliver(order[-5])
    assert not session.held
    assert_same(session.found(), WHOLE)


def test_batches_after_the_settled_end_are_detected_on_their_own() -> None:
    order = batches()
    session = Session()
    session.deliver(*order[:-20], end_ms=order[-21].last_ts)  # the device said it ended there
    session.deliver(*order[-20:])
    assert not session.dead and not session.held
    assert len(session.found()) < len(WHOLE)  # each late batch alone: a second holds too few jumps for a bout


def test_the_stream_state_round_trips_exactly() -> None:
    session = Session()
    session.deliver(*batches()[:7])
    assert session.state is not None
    assert StreamState.decode(session.state).encode() == session.state


def test_hold_is_short_enough_for_live_alerts() -> None:
    assert HOLD_S * RATE_HZ / PER_BATCH == 30  # thirty one-second batches
