"""The Oxford recordings' true steps, read straight from their files (not through the importer),
and how detected step times are scored against them.

Validation files: a true step is a row where the ground-truth device's cumulative count
(column 6) rises. Optimisation recordings: the 0 -> 1 transitions of either foot in
``stepcounter.csv``, its first row taken as the starting state (the upstream ``stats.js``
rule). Times are ms since the recording's first accelerometer sample; the importer puts
that sample at the recording's start.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DATA = Path(__file__).parents[2] / "data" / "imu"
COPIED = (
    DATA / "validation" / "user1_backpocket_1506422470497.csv",
    DATA / "validation" / "user2_bag_1506422838474.csv",
    DATA / "optimisation" / "data" / "Samsung_Jamie_Hard_InHand_1" / "accelerometer.csv",
)
BESIDE = Path(__file__).parents[4] / "shared" / "data" / "imu"
SHARED = os.environ.get("STRIDEWATCH_IMU_SET") or (str(BESIDE) if BESIDE.is_dir() else None)
TOLERANCE_MS = 150.0


def shared_recordings() -> list[Path]:
    root = Path(SHARED or "")
    return sorted(root.glob("validation/*.csv")) + sorted(root.glob("optimisation/data/*/accelerometer.csv"))


def true_steps_ms(path: Path) -> np.ndarray:
    """The true step times of a recording, ms after its first accelerometer sample."""
    if path.name == "accelerometer.csv":
        first = np.loadtxt(path, delimiter=",", usecols=0, max_rows=1)
        truth = np.loadtxt(path.parent / "stepcounter.csv", delimiter=",")
        rises = [truth[1:, 0][(truth[1:, foot] == 1) & (truth[:-1, foot] == 0)] for foot in (1, 2)]
        return np.sort(np.concatenate(rises) - first) / 1e6
    table = np.loadtxt(path, delimiter=",", usecols=(0, 5))
    rises = np.flatnonzero(np.diff(table[:, 1]) > 0) + 1
    return (table[rises, 0] - table[0, 0]) / 1e6


def f1(detected_ms: np.ndarray, true_ms: np.ndarray, tolerance_ms: float = TOLERANCE_MS) -> float:
    """F1 of detected step times against the true ones, each matched once, in time order, within the tolerance."""
    detected, truth = np.sort(detected_ms), np.sort(true_ms)
    i = j = matched = 0
    while i < len(detected) and j < len(truth):
        gap = detected[i] - truth[j]
        if abs(gap) <= tolerance_ms:
            matched, i, j = matched + 1, i + 1, j + 1
        elif gap < 0:
            i += 1
        else:
            j += 1
    if not matched:
        return 0.0
    precision, recall = matched / len(detected), matched / len(truth)
    return 2 * precision * recall / (precision + recall)


def clock_lag_ms(detected_ms: np.ndarray, true_ms: np.ndarray) -> float:
    """The median offset of the nearest detected step from each true one (within 0.3 s): the
    constant lag between the phone's sensor clock and the truth device's polling."""
    detected = np.sort(detected_ms)
    k = np.clip(np.searchsorted(detected, true_ms), 1, len(detected) - 1)
    nearest = np.where(np.abs(detected[k - 1] - true_ms) < np.abs(detected[k] - true_ms), k - 1, k)
    offsets = detected[nearest] - true_ms
    return float(np.median(offsets[np.abs(offsets) < 300]))
