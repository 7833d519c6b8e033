"""Streaming equals offline: any split of a recording into batches, with the detector's state
stored and read back between any of them, gives exactly the steps of one pass over it."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.imu import Detector, DetectorState, StepRows
from tests.unit.imu.recordings import Signal, detect, phone_stretch, pod_session

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cuts(n: int) -> st.SearchStrategy[list[int]]:
    """Sorted cut points: from a few long batches to hundreds of one-sample ones."""
    return st.lists(st.integers(1, n - 1), max_size=400, unique=True).map(sorted)


def streamed(signal: Signal, at: list[int], restarts: set[int]) -> StepRows:
    """Fed in batches cut ``at``; before each batch in ``restarts`` the state goes through its bytes."""
    edges = [0, *at, len(signal.xyz_g)]
    detector = Detector.start(signal.placement, signal.side)  # type: ignore[arg-type]
    rows = []
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        if k in restarts:  # a consumer restarted: only the stored state survives
            detector = Detector(DetectorState.decode(detector.state.encode()))
        rows.append(detector.feed(*signal.batch(a, b)))
    rows.append(Detector(DetectorState.decode(detector.state.encode())).finish())
    return StepRows(*(np.concatenate(column) for column in zip(*rows, strict=True)))


def assert_same(a: StepRows, b: StepRows) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


ROPE = pod_session("jump_rope_spike", 0)[0]
RUN_SAMPLES = 6000  # a minute of a run: enough strides, quick to detect hundreds of times
RUN = Signal(
    pod_session("steady_runner", 0)[0].t0_ms, pod_session("steady_runner", 0)[0].xyz_g[:RUN_SAMPLES], "shin", "L"
)


@SETTINGS
@given(data=st.data())
def test_a_rope_session_streamed_in_any_batches_equals_one_pass(data: st.DataObject) -> None:
    at = data.draw(cuts(len(ROPE.xyz_g)))
    restarts = data.draw(st.sets(st.integers(0, len(at))))
    assert_same(streamed(ROPE, at, restarts), WHOLE_ROPE)


@SETTINGS
@given(data=st.data())
def test_a_run_streamed_in_any_batches_equals_one_pass(data: st.DataObject) -> None:
    at = data.draw(cuts(len(RUN.xyz_g)))
    assert_same(streamed(RUN, at, data.draw(st.sets(st.integers(0, len(at))))), WHOLE_RUN)


@SETTINGS
@given(data=st.data())
def test_a_phone_with_uneven_sample_times_streamed_in_any_batches_equals_one_pass(data: st.DataObject) -> None:
    phone = phone_stretch()
    at = data.draw(cuts(len(phone.xyz_g)))
    assert_same(streamed(phone, at, data.draw(st.sets(st.integers(0, len(at))))), WHOLE_PHONE)


WHOLE_ROPE, WHOLE_RUN, WHOLE_PHONE = detect(ROPE), detect(RUN), detect(phone_stretch())


def test_the_signals_have_steps_to_compare() -> None:
    assert len(WHOLE_ROPE) == len(pod_session("jump_rope_spike", 0)[1]) == 400
    assert len(WHOLE_RUN) > 100 and len(WHOLE_PHONE) > 90
