"""Step detection on real phone recordings (the Oxford set), scored against their true steps.

Targets (issue 15): each recording's step count within 3% of the truth, the median error
at most 1.5%, step times matched to the truth's within 0.15 s with F1 >= 0.95. The truth's
clock is not the phone's: the ground-truth device is polled every 0.1 s and each phone
stamps its samples with its own latency, so each recording's times lag by a constant of
its own (-70 to +75 ms here). F1 is scored as recorded and with that lag removed (the
median offset, one number per recording); the detector is never told either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.files.accel import read_recording
from ingest.imu import Detector
from ingest.imu.samples import STANDARD_GRAVITY
from tests.unit.imu.truth import COPIED, SHARED, clock_lag_ms, f1, shared_recordings, true_steps_ms

START_MS = 1_500_000_000_000  # the optimisation recording gives no start; any will do


def detected_ms(path: Path) -> np.ndarray:
    """Step times (ms after the file's first sample) from the importer's reader and the server's detector."""
    recording = read_recording(path, start_ms=START_MS)
    assert recording.placement is not None
    detector = Detector.start(recording.placement)
    xyz_g = recording.xyz / STANDARD_GRAVITY
    start = round(recording.times_ms[0])
    rows = [detector.feed(start, round(recording.rate_hz), xyz_g, recording.times_ms - start), detector.finish()]
    # The reader puts the file's first sample at the start its name gives (or START_MS).
    began = START_MS if path.name == "accelerometer.csv" else int(path.stem.rsplit("_", 1)[1])
    return np.concatenate([r.ts for r in rows]) - began


def scores(path: Path) -> tuple[float, float, float]:
    """(count error %, F1, F1 with the recording's clock lag removed)."""
    found, truth = detected_ms(path), true_steps_ms(path)
    lag = clock_lag_ms(found, truth)
    return 100 * (len(found) - len(truth)) / len(truth), f1(found, truth), f1(found - lag, truth)


@pytest.mark.parametrize(
    "path", COPIED, ids=[p.parent.name if p.name == "accelerometer.csv" else p.stem for p in COPIED]
)
def test_a_copied_recording_meets_the_targets(path: Path) -> None:
    error, raw_f1, aligned_f1 = scores(path)
    assert abs(error) <= 3.0, f"{error:+.2f}% steps"
    assert raw_f1 >= 0.95, raw_f1
    assert aligned_f1 >= 0.95, aligned_f1


@pytest.mark.skipif(not SHARED, reason="no shared Oxford set beside the project; set STRIDEWATCH_IMU_SET to its folder")
def test_every_recording_of_the_shared_set() -> None:
    paths = shared_recordings()
    assert len(paths) == 13, paths
    results = {p: scores(p) for p in paths}
    errors = [abs(e) for e, _, _ in results.values()]
    assert max(errors) <= 3.0, {p.name: e for p, (e, _, _) in results.items()}
    assert float(np.median(errors)) <= 1.5
    assert min(a for _, _, a in results.values()) >= 0.95, {p.name: a for p, (_, _, a) in results.items()}
    # As recorded, one file misses 0.95: its clock lags the truth's by 70 ms (see the module doc).
    assert min(r for _, r, _ in results.values()) >= 0.93, {p.name: r for p, (_, r, _) in results.items()}
