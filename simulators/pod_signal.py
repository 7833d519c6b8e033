"""The raw accelerometer of a foot or shin pod: one session's steps as 3-axis samples, in g.

The pod is the step model's (`simulators.athlete`): one pod that feels every strike,
left and right, so that the raw replay of a scenario carries the same steps and impacts
as its step version. What the signal holds, per step and between steps:

- gravity, 1 g, tilting with the pod's own leg as it swings (the magnitude stays 1 g);
- a contact spike along the shank at each strike: a Gaussian of ``SPIKE_SD_MS``, sized
  so that the magnitude of the whole signal peaks at exactly the step's ``impact_g``: that
  peak is the model's impact, whatever the tilt and swing at that moment;
- the swing of the pod's own leg (``side``), forward, a Hann-shaped bump from toe-off to
  just before its own next strike: 2 g running, 0.8 g for alternate-foot rope jumps, none
  for two-footed jumps;
- sensor noise (``NOISE_G`` per axis) and 16-bit quantisation at +-16 g, as pods send.

Between rope sets and before the first strike the pod lies still: gravity and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.athlete import StepSamples

SPIKE_SD_MS = 12.0
NOISE_G = 0.03
FULL_SCALE_G = 16.0
SWING_G = {"run": 2.0, "jump_rope": 0.8}
SWING_TILT_RAD = 0.35
SWING_END_MS = 40.0  # the leg stops swinging this long before its strike
INT16_SCALE = FULL_SCALE_G / 32768


@dataclass(frozen=True)
class PodRecording:
    """Samples at ``rate_hz`` from ``t0_ms``, as int16 counts of ``INT16_SCALE`` g."""

    t0_ms: int
    rate_hz: float
    counts: np.ndarray  # int16, n x 3

    @property
    def xyz_g(self) -> np.ndarray:
        return self.counts.astype(np.float64) * INT16_SCALE


def pod_signal(
    steps: StepSamples,
    *,
    activity: str,
    side: str,
    two_footed: bool,
    t0_ms: int,
    end_ms: int,
    rate_hz: float,
    rng: np.random.Generator,
) -> PodRecording:
    """The pod's samples from ``t0_ms`` to ``end_ms``; ``steps`` must carry ``impact_g``."""
    if steps.impact_g is None:
        raise ValueError("a raw pod needs the steps' impacts: a pod with impact = true")
    t = t0_ms + np.arange(int((end_ms - t0_ms) * rate_hz / 1000) + 1) * 1000.0 / rate_hz
    swing = np.zeros_like(t)
    strength = 0.0 if two_footed else SWING_G[activity]
    own = steps.left if side == "L" else ~steps.left
    for ts, cadence in zip(steps.ts[own].tolist(), steps.cadence_spm[own].tolist(), strict=True):
        start, stop = ts - 1.25 * 60_000 / cadence, ts - SWING_END_MS
        lo, hi = np.searchsorted(t, [start, stop])
        swing[lo:hi] = strength * np.sin(np.pi * (t[lo:hi] - start) / (stop - start)) ** 2
    tilt = SWING_TILT_RAD * swing / max(strength, 1e-9)
    forward = np.sin(tilt) + swing
    along = np.cos(tilt)
    # Each spike's height makes |gravity + swing + spike| peak at the step's impact (spikes lie apart).
    at = np.searchsorted(t, steps.ts)
    near = np.clip(at, 0, len(t) - 1)
    heights = np.sqrt(np.maximum(steps.impact_g**2 - forward[near] ** 2, 0)) - along[near]
    reach = int(np.ceil(5 * SPIKE_SD_MS * rate_hz / 1000))
    for ts, height, k in zip(steps.ts.tolist(), heights.tolist(), at.tolist(), strict=True):
        lo, hi = max(0, k - reach), min(len(t), k + reach + 1)
        along[lo:hi] += height * np.exp(-0.5 * ((t[lo:hi] - ts) / SPIKE_SD_MS) ** 2)
    xyz = np.column_stack((forward, np.zeros_like(t), along)) + rng.normal(0.0, NOISE_G, (len(t), 3))
    counts = np.clip(np.round(xyz / INT16_SCALE), -32768, 32767).astype(np.int16)
    return PodRecording(t0_ms=t0_ms, rate_hz=rate_hz, counts=counts)
