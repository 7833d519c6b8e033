"""Steps from cadence over time: each interval between two samples holds ``rate x dt`` steps.

The steps' running count is integrated over the intervals and a step is placed wherever it
crosses a whole number, so a session of 40 minutes at 170 steps/min gives 6,800 steps,
evenly spaced, feet alternating. Elevation is interpolated between the samples that have
one, so the scoring's descent rule sees the descents; impact is absent (watches do not
measure it) and stays absent, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.files.plausibility import Track

MIN_ELEVATION_M, MAX_ELEVATION_M = -1000.0, 10000.0  # the contract's range


@dataclass(frozen=True)
class Steps:
    ts: np.ndarray  # int64 ms, non-decreasing
    cadence_spm: np.ndarray  # float64, > 0
    elevation_m: np.ndarray  # float64, NaN where unknown

    def __len__(self) -> int:
        return len(self.ts)


def synthesize(track: Track) -> Steps:
    ts = track.ts.astype(np.float64)
    count = np.concatenate(([0.0], np.cumsum(track.rate_spm * np.diff(ts) / 60_000)))
    k = np.arange(1, int(np.floor(count[-1] + 1e-9)) + 1, dtype=np.float64)
    j = np.clip(np.searchsorted(count, k - 1e-9, side="left"), 1, len(ts) - 1)  # interval j-1 .. j
    share = np.clip((k - count[j - 1]) / np.maximum(count[j] - count[j - 1], 1e-12), 0.0, 1.0)
    at = ts[j - 1] + share * (ts[j] - ts[j - 1])
    known = np.isfinite(track.elevation_m) & (track.elevation_m >= MIN_ELEVATION_M)
    known &= track.elevation_m <= MAX_ELEVATION_M
    elevation = np.interp(at, ts[known], track.elevation_m[known]) if known.any() else np.full(len(at), np.nan)
    return Steps(ts=np.round(at).astype(np.int64), cadence_spm=track.rate_spm[j - 1], elevation_m=elevation)
