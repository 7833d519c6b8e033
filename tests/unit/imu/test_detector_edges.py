"""The detector's thresholds, each at, just below and just above its value, on synthetic strikes.

A strike here is a Gaussian contact spike (12 ms SD) on top of 1 g of gravity, sampled at
100 Hz: a pod lying still but for the strikes. Heights of the band-passed signal come from
the filter the parameters document (Butterworth, order 2, ``POD.band_hz``), computed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from ingest.imu import Detector, DetectorState, StepRows
from ingest.imu.detector import MAX_CADENCE_SPM, MAX_IMPACT_G
from ingest.imu.params import POD
from tests.unit.imu.recordings import RATE_HZ, Signal, detect, pod_session

T0 = 1_772_000_000_000
RATE_HZ_INT = int(RATE_HZ)
SPIKE_SD_MS = 12.0


def strikes(at_s: list[float] | np.ndarray, peaks_g: float | list[float] = 6.0, *, tail_s: float = 3.0) -> Signal:
    """Strikes at ``at_s`` (s after the start) whose magnitude peaks at ``peaks_g``."""
    at = np.asarray(at_s, dtype=float) + 1.0
    t = np.arange(0, at[-1] + tail_s, 1 / RATE_HZ)
    z = np.ones_like(t)
    for when, peak in zip(at, np.broadcast_to(peaks_g, at.shape), strict=True):
        z += (peak - 1) * np.exp(-0.5 * ((t - when) * 1000 / SPIKE_SD_MS) ** 2)
    xyz = np.column_stack((np.zeros_like(t), np.zeros_like(t), z))
    return Signal(T0, xyz, "shin")


def train(n: int, period_s: float, start_s: float = 0.0) -> np.ndarray:
    return start_s + np.arange(n) * period_s


def band_height_per_g() -> float:
    """How high the detection band shows a strike, per g of spike above gravity."""
    sos = signal.butter(2, POD.band_hz, btype="bandpass", fs=RATE_HZ, output="sos")
    x = np.linalg.norm(strikes([0.0], 11.0).xyz_g, axis=1)
    filtered = signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])[0]
    return float(filtered.max() / 10.0)


@pytest.mark.parametrize(("n", "counted"), [(3, 0), (4, 4), (5, 5)])
def test_a_bout_counts_from_its_fourth_strike(n: int, counted: int) -> None:
    assert POD.bout_steps == 4
    assert len(detect(strikes(train(n, 0.4)))) == counted


@pytest.mark.parametrize(("pause_s", "counted"), [(1.9, 8), (2.0, 8), (2.1, 0)])
def test_strikes_further_apart_than_the_longest_pause_are_no_bout(pause_s: float, counted: int) -> None:
    assert POD.max_pause_s == 2.0
    assert len(detect(strikes(train(8, pause_s)))) == counted


@pytest.mark.parametrize(("fastest_s", "all_counted"), [(0.21, True), (0.19, False)])
def test_no_two_steps_closer_than_the_fastest_cadence(fastest_s: float, all_counted: bool) -> None:
    """A jumper speeding up from 150 to the fastest cadence: the refractory distance follows, down to its floor."""
    assert POD.min_step_s == 0.2 and 60 / POD.min_step_s == MAX_CADENCE_SPM
    intervals = np.concatenate((np.linspace(0.4, fastest_s, 60), np.full(20, fastest_s)))
    found = detect(strikes(np.concatenate(([0.0], np.cumsum(intervals)))))
    assert (len(found) == 81) == all_counted
    assert found.cadence_spm.max() <= MAX_CADENCE_SPM


@pytest.mark.parametrize(("share", "counted"), [(0.9, 0), (1.1, 12)])
def test_a_strike_must_stand_out_of_the_band_by_the_floor(share: float, counted: int) -> None:
    peak = 1 + share * POD.floor_g / band_height_per_g()
    assert len(detect(strikes(train(12, 0.4), peak))) == counted


@pytest.mark.parametrize(("peak", "reported"), [(MAX_IMPACT_G - 1, True), (MAX_IMPACT_G + 1, False)])
def test_impacts_over_the_contract_ceiling_are_left_out(peak: float, reported: bool) -> None:
    found = detect(strikes(train(6, 0.4), peak))
    assert len(found) == 6
    assert np.isfinite(found.impact_g).all() == reported
    if reported:
        np.testing.assert_allclose(found.impact_g, peak, rtol=0.02)


def test_a_weak_strike_among_strong_ones_is_kept_above_the_relative_height() -> None:
    peaks = [8.0] * 20
    peaks[10] = 1 + 0.35 * 7.0  # 35% of its neighbours' height; the relative floor is 30%
    peaks[14] = 1 + 0.25 * 7.0  # 25%: refused
    found = detect(strikes(train(20, 0.4), peaks))
    assert len(found) == 19
    assert POD.relative_height == 0.3


def test_step_times_and_cadence_come_from_the_strikes() -> None:
    at = train(30, 0.37)
    found = detect(strikes(at))
    np.testing.assert_allclose(found.ts, T0 + np.round((at + 1.0) * 1000), atol=2)
    np.testing.assert_allclose(found.cadence_spm, 60 / 0.37, rtol=0.01)


def test_the_feet_of_a_pod_on_the_right_leg() -> None:
    left_pod, model, _, _ = pod_session("jump_rope_spike", 0)
    right_pod = Signal(left_pod.t0_ms, left_pod.xyz_g, left_pod.placement, "R")
    # The same signal read as a right-leg pod: the leg that swings is the right one.
    assert (detect(right_pod).right == ~detect(left_pod).right).all()
    assert (detect(left_pod).right == ~model.left).mean() > 0.99


def test_two_footed_jumps_are_left_as_the_contract_asks() -> None:
    pod = strikes(train(50, 0.5))
    found = detect(Signal(pod.t0_ms, pod.xyz_g, "shin", "L"))  # a pod on one leg, but no leg swings
    assert len(found) == 50 and not found.right.any()


def test_a_pod_without_a_side_alternates_the_feet() -> None:
    no_side = Signal(T0, strikes(train(10, 0.4)).xyz_g, "shin", None)
    assert detect(no_side).right.tolist() == [False, True] * 5


def test_a_gap_in_the_samples_starts_a_new_segment_and_loses_no_strike() -> None:
    whole = strikes(train(40, 0.4))
    cut = 1000  # 10 s in; the next batch comes 2.5 s of samples later (lost in transit)
    detector = Detector.start("shin")
    rows = [detector.feed(*whole.batch(0, cut))]
    rows.append(detector.feed(whole.times_ms(cut + 250), RATE_HZ, whole.xyz_g[cut + 250 :]))
    rows.append(detector.finish())
    found = StepRows(*(np.concatenate(c) for c in zip(*rows, strict=True)))
    lost = (train(40, 0.4) + 1.0 >= cut / RATE_HZ) & (train(40, 0.4) + 1.0 < (cut + 250) / RATE_HZ)
    assert len(found) == 40 - lost.sum()


def test_a_new_rate_is_a_new_segment() -> None:
    fast = strikes(train(10, 0.4))
    detector = Detector.start("shin")
    first = detector.feed(*fast.batch(0, 300))
    assert detector.state.rate_hz == RATE_HZ
    detector.feed(fast.times_ms(300), 50.0, fast.xyz_g[300::2])
    assert detector.state.rate_hz == 50.0 and detector.state.n == len(fast.xyz_g[300::2])
    assert len(first) + len(detector.finish()) <= 10


def test_state_bytes_round_trip_exactly() -> None:
    detector = Detector.start("pocket")
    detector.feed(*strikes(train(10, 0.5)).batch(0, 333))
    state = detector.state
    again = DetectorState.decode(state.encode())
    assert again.encode() == state.encode()
    for name in DetectorState._ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(state, name))


def test_a_pod_lying_still_for_an_hour_keeps_a_small_state() -> None:
    """A flat signal settles the filter to an exact plateau: the buffer must not keep it all."""
    detector = Detector.start("shin", "L")
    still = np.tile([0.0, 0.0, 1.0], (RATE_HZ_INT, 1))
    for second in range(3600):
        detector.feed(T0 + second * 1000, RATE_HZ, still)
    assert len(detector.state.mag) < 2 * RATE_HZ_INT
    assert len(detector.state.encode()) < 10_000
