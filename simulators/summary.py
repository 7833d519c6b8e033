"""Session-summary mode: what ``scoring.session_features`` would make of a run's steps, without the steps.

A validation cohort of hundreds of athletes over months is tens of millions of steps;
``summarise`` gives each planned run's feature row directly, as the expectation of the step
model (``simulators.athlete``) on a flat route: the same cadence and pace curves (a warm-up
ramp over ``warmup_min``, fatigue past ``endurance_min``), the same impact shape, but
integrated over time in ``GRID_S`` slices instead of drawn step by step, with every per-step
and per-session noise at its mean (the day's form at 1, the usual asymmetry, a lead-in of 9 s).
Medians are the noise-free curve's, on its plateau; on a long run that tires, the step
model's per-step spread moves them by up to about 5%, within a session's day-to-day form.
A test holds it to ``session_features`` of simulated steps. Only runs: a route's descents and
a rope session's sets are not summarised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulators.athlete import IMPACT_NOISE, PLACEMENT_G, SURFACE_FACTOR, SessionPlan
from simulators.scenario import Device, Profile

GRID_S = 5.0
LEAD_IN_S = 9.0  # the step model's lead-in is uniform on 3-15 s
END_AFTER_LAST_STEP_MS = 1500  # the session end event follows the last step (simulators.messages)
WARMUP_WINDOW_S = 180.0  # scoring.features.WARMUP_MS


def summarise(plan: SessionPlan, profile: Profile, device: Device) -> dict[str, object]:
    """The run's session and feature columns (the store's ``FEATURE_COLUMNS`` less the keys)."""
    if plan.activity != "run":
        raise ValueError("the session summary models runs only")
    curves = _curves(profile, plan.warmup, plan.intensity, _hours(plan, profile))
    cells = int(np.searchsorted(curves.position, plan.amount)) + 1
    n_steps = round(float(curves.steps_before[cells]))
    # Slices [0, first), [last, cells) and [0, warm) hold the first and last third of the steps
    # and the first 3 minutes.
    first = int(np.searchsorted(curves.steps_before[1:], n_steps // 3, side="right"))
    last = int(np.searchsorted(curves.steps_before[1:], n_steps - n_steps // 3, side="right"))
    warm = int(np.searchsorted(curves.t, WARMUP_WINDOW_S))
    duration = float(curves.t[cells - 1])
    cadence, steps = curves.cadence[:cells], curves.steps[:cells]

    features: dict[str, object] = {
        "n_steps": n_steps,
        "n_impact": 0,
        "impact_median": None,
        "impact_weighted_sum": 0.0,
        "plain_weighted_steps": float(n_steps),
        "descent_steps": 0,
        "fatigue_cadence_change": curves.mean("cadence", last, cells) / curves.mean("cadence", 0, first) - 1,
        "fatigue_impact_change": None,
        "impact_mean_L": None,
        "impact_mean_R": None,
    }
    warmup_ratios = [curves.mean("cadence", 0, warm) / _median(cadence, steps)]
    if device.impact:
        typical = PLACEMENT_G[device.placement] * profile.impact_scale * SURFACE_FACTOR[plan.surface]
        typical *= plan.intensity**0.8
        mean_noise = np.exp(IMPACT_NOISE**2 / 2)  # the mean of the step model's lognormal spread
        favour_l, favour_r = plan.favour
        asymmetry = profile.asymmetry_pct / 100
        left, right = favour_l * (1 - asymmetry / 2), favour_r * (1 + asymmetry / 2)
        shape_median = _median(curves.impact_shape[:cells], steps)
        mean_impact = typical * curves.mean("impact_shape", 0, cells) * mean_noise
        features |= {
            "n_impact": n_steps,
            # Both feet pooled: the sides' few percent apart barely move the median off their middle.
            "impact_median": typical * shape_median * (left + right) / 2,
            "impact_weighted_sum": mean_impact * (left + right) / 2 * float(curves.steps_before[cells]),
            "plain_weighted_steps": 0.0,
            "fatigue_impact_change": curves.mean("impact_shape", last, cells) / curves.mean("impact_shape", 0, first)
            - 1,
            "impact_mean_L": mean_impact * left,
            "impact_mean_R": mean_impact * right,
        }
        warmup_ratios.append(curves.mean("impact_shape", 0, warm) * mean_noise / shape_median)
    first_ts = plan.start_ms + round(LEAD_IN_S * 1000)
    last_ts = first_ts + round(duration * 1000)
    end_ts = last_ts + END_AFTER_LAST_STEP_MS
    return {
        "activity": plan.activity,
        "surface": plan.surface,
        "shoe_id": plan.shoe,
        "placement": device.placement,
        "start_ts": plan.start_ms,
        "end_ts": end_ts,
        "duration_s": (end_ts - plan.start_ms) / 1000,
        "distance_m": round(plan.amount, 1),
        **features,
        "warmup_ratio": max(warmup_ratios) if duration > WARMUP_WINDOW_S else None,
        "first_ts": first_ts,
        "last_ts": last_ts,
    }


@dataclass(frozen=True, eq=False)
class _Curves:
    """An athlete's run as time slices: the same for every run of theirs, up to where it ends.

    ``steps_before[i]`` is the steps taken before slice ``i``; ``weighted[name][i]`` the sum of
    a curve's values times the slices' steps before slice ``i``: step-weighted means over any
    run of slices are two look-ups.
    """

    t: np.ndarray
    position: np.ndarray  # metres covered by the end of each slice
    cadence: np.ndarray
    impact_shape: np.ndarray  # impact over the typical impact
    steps: np.ndarray
    steps_before: np.ndarray
    weighted: dict[str, np.ndarray]

    def mean(self, curve: str, start: int, stop: int) -> float:
        """The step-weighted mean of ``curve`` over slices [start, stop)."""
        total = self.weighted[curve]
        return float((total[stop] - total[start]) / (self.steps_before[stop] - self.steps_before[start]))


def _hours(plan: SessionPlan, profile: Profile) -> int:
    """A bound on the run's hours, a power of two, so that few curve lengths are cached."""
    slowest = 1000 / (profile.pace_min_per_km * 60) * plan.intensity * 0.7 * 0.9
    return 1 << max(0, math.ceil(math.log2(plan.amount / slowest / 3600 + 0.1)))


@lru_cache(maxsize=1024)
def _curves(profile: Profile, warmup: bool, intensity: float, hours: int) -> _Curves:
    rate = profile.cadence_spm * intensity**0.3
    speed = 1000 / (profile.pace_min_per_km * 60) * intensity
    t = np.arange(0.0, hours * 3600 + 2 * GRID_S, GRID_S)
    warmup_s = profile.warmup_min * 60 if warmup else 0.0
    warm = np.clip(t / warmup_s, 0, 1) if warmup_s else np.ones_like(t)
    endurance_s = profile.endurance_min * 60
    tired = np.clip((t - endurance_s) / endurance_s, 0, 1)
    cadence = rate * (0.8 + 0.2 * warm) * (1 - 0.08 * tired)
    shape = (0.65 + 0.35 * warm) * (1 + 0.25 * tired)
    steps = cadence / 60 * GRID_S  # steps in each slice: the weight of its values

    def before(values: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(values)])

    return _Curves(
        t=t,
        position=np.cumsum(speed * (0.7 + 0.3 * warm) * (1 - 0.1 * tired) * GRID_S),
        cadence=cadence,
        impact_shape=shape,
        steps=steps,
        steps_before=before(steps),
        weighted={"cadence": before(cadence * steps), "impact_shape": before(shape * steps)},
    )


def _median(values: np.ndarray, weights: np.ndarray) -> float:
    """The step-weighted median of ``values``."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
