"""The athlete model: one session's steps as a foot, shin or sacrum pod (or a watch) records them.

Everything is computed per step with numpy, from one seeded Generator per session, so a
session is the same whatever else is generated and a fleet's weeks generate in seconds.

What shapes a step, and why:

- cadence follows pace (about ``pace^0.3``) and falls with fatigue; jump rope has its own rate;
- impact depends on where the sensor sits (RULES.md: ~4 g sacrum, 7-8 g tibia, 5-15 g foot),
  the surface, pace, and the slope: +6% per degree of descent (Gottschall & Kram 2005:
  +54% at -9 degrees), a little less uphill;
- a warm-up starts at 80% cadence and 65% impact and ramps up over ``warmup_min``, so its
  first 3 minutes stay under 90% of the session's median; without one the first step is full;
- fatigue, past ``endurance_min`` of work, lowers cadence (up to -8%) and raises impact
  (up to +25%) and contact time: form breaking down;
- the athlete's usual left/right difference is a few percent; pain on one side lowers that
  side's impact by 7% a pain point (up to half): the compensation the seed's rope jumper
  describes ("my body adapted and jumped without pain");
- elevation is the route's, plus barometric noise (0.35 m).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ingest.payloads import Pain, Surface
from simulators.routes import Route
from simulators.scenario import Activity, Device, Profile

# Typical peak impact running on asphalt at easy pace, by sensor placement (g).
PLACEMENT_G = {"shin": 7.5, "foot": 10.0, "sacrum": 4.0}
# Landing on these, relative to asphalt. Soft ground damps the tibial peak only a little.
SURFACE_FACTOR: dict[str | None, float] = {
    "asphalt": 1.0, "concrete": 1.05, "tiles": 1.08, "track": 0.9, "treadmill": 0.88,
    "grass": 0.85, "trail": 0.87, "carpet": 0.82, None: 1.0,
}  # fmt: skip
ROPE_IMPACT = 0.8  # a forefoot rope landing vs a running foot strike, same placement
DUTY = {"run": 0.68, "jump_rope": 0.34}  # ground contact as a share of the step period
BARO_NOISE_M = 0.35
IMPACT_NOISE = 0.08  # per-step lognormal spread of the peak
CADENCE_NOISE = 0.015
MAX_PAIN_COMPENSATION = 0.5
PAIN_COMPENSATION_PER_POINT = 0.07


@dataclass(frozen=True, kw_only=True)
class SessionPlan:
    """One concrete session: what the athlete sets out to do, and how they feel."""

    session_id: str
    start_ms: int
    activity: Activity
    amount: float  # metres for a run, jumps for jump rope
    surface: Surface | None
    route: Route
    warmup: bool
    intensity: float
    shoe: str | None
    favour: tuple[float, float] = (1.0, 1.0)  # impact multipliers (L, R); < 1 on a painful side
    seed: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class StepSamples:
    """A session's steps as columns: one row per foot strike (or jump landing)."""

    ts: np.ndarray  # int64, ms since the epoch
    left: np.ndarray  # bool: foot "L"
    cadence_spm: np.ndarray
    impact_g: np.ndarray | None  # None for cadence-only devices
    elevation_m: np.ndarray | None
    contact_ms: np.ndarray | None
    distance_m: float | None  # runs only

    def __len__(self) -> int:
        return len(self.ts)


def simulate(plan: SessionPlan, profile: Profile, device: Device) -> StepSamples:
    """The steps ``plan`` produces for this athlete and device."""
    # A rope session is its jumps; a run ends at a distance: guess its steps generously,
    # cut, and guess again if short.
    easy_step_m = 1000 / (profile.pace_min_per_km * profile.cadence_spm)
    n = round(plan.amount) if plan.activity == "jump_rope" else int(plan.amount / easy_step_m * 1.6) + 100
    while (samples := _steps(plan, profile, device, n)) is None:
        n *= 2
    return samples


def _steps(plan: SessionPlan, profile: Profile, device: Device, n: int) -> StepSamples | None:
    """``n`` steps of the session (cut at the distance of a run), or None if a run needs more."""
    rng = np.random.default_rng(plan.seed)
    running = plan.activity == "run"
    rate = profile.cadence_spm * plan.intensity**0.3 if running else profile.rope_jpm * plan.intensity**0.5
    speed = 1000 / (profile.pace_min_per_km * 60) * plan.intensity
    z_cadence, z_impact, z_contact = np.clip(rng.standard_normal((3, n)), -3, 3)
    form = np.exp(rng.normal(0, 0.03))  # the day's form shifts the whole session
    asymmetry = rng.normal(profile.asymmetry_pct, 1.0) / 100
    lead_in_s = rng.uniform(3, 15)
    first_foot = rng.integers(2)
    alternate = running or profile.rope_style == "alternate"
    left = (np.arange(n) + first_foot) % 2 == 0 if alternate else np.ones(n, bool)

    warmup_s = profile.warmup_min * 60 if plan.warmup else 0.0
    endurance_s = profile.endurance_min * 60
    # Warm-up and fatigue depend on time, time on cadence, cadence (on a run) on the slope
    # under the foot, and that on the distance covered: a few fixed-point passes settle it.
    t = np.arange(n) * 60.0 / rate
    grade = np.zeros(n)
    position = np.zeros(n)
    for _ in range(3):
        warm = np.clip(t / warmup_s, 0, 1) if warmup_s else np.ones(n)
        tired = np.clip((t - endurance_s) / endurance_s, 0, 1)
        cadence = rate * (0.8 + 0.2 * warm) * (1 - 0.08 * tired) * (1 - 0.25 * grade) * (1 + CADENCE_NOISE * z_cadence)
        step_s = 60 / cadence
        t = np.cumsum(step_s) - step_s[0]
        if running:
            pace = speed * (0.7 + 0.3 * warm) * (1 - 0.1 * tired) * np.clip(1 - 2 * grade, 0.7, 1.25)
            position = np.cumsum(pace * step_s)
            grade = plan.route.grade_at(position)

    if running:
        if position[-1] < plan.amount:
            return None
        n = int(np.searchsorted(position, plan.amount)) + 1
    rests = np.zeros(n)
    if not running and profile.rope_set:
        sets = slice(profile.rope_set, None, profile.rope_set)
        rests[sets] = profile.rope_rest_s * rng.uniform(0.7, 1.3, len(rests[sets]))
    ts = plan.start_ms + np.round((lead_in_s + t[:n] + np.cumsum(rests)) * 1000).astype(np.int64)

    impact = contact = None
    if device.impact:
        degrees = np.degrees(np.arctan(grade[:n]))
        slope = 1 + 0.06 * np.clip(-degrees, 0, None) - 0.02 * np.clip(degrees, 0, None)
        favour_l, favour_r = plan.favour
        side = np.where(left[:n], favour_l * (1 - asymmetry / 2), favour_r * (1 + asymmetry / 2))
        typical = PLACEMENT_G[device.placement] * profile.impact_scale * SURFACE_FACTOR[plan.surface]
        typical *= (1.0 if running else ROPE_IMPACT) * plan.intensity**0.8 * form
        shape = (0.65 + 0.35 * warm[:n]) * (1 + 0.25 * tired[:n]) * slope * side
        impact = np.round(np.clip(typical * shape * np.exp(IMPACT_NOISE * z_impact[:n]), 0.5, 60), 2)
        contact = np.round(
            DUTY[plan.activity] * step_s[:n] * 1000 * (1 + 0.08 * tired[:n]) * np.exp(0.04 * z_contact[:n])
        )
    elevation = None
    if device.barometer:
        ground = plan.route.elevation_at(position[:n] if running else np.zeros(n))
        elevation = np.round(ground + rng.normal(0, BARO_NOISE_M, n), 1)
    return StepSamples(
        ts=ts,
        left=left[:n],
        cadence_spm=np.round(cadence[:n], 1),
        impact_g=impact,
        elevation_m=elevation,
        contact_ms=contact,
        distance_m=round(float(position[n - 1]), 1) if running else None,
    )


def pain_favour(pain: Iterable[Pain]) -> tuple[float, float]:
    """Impact multipliers (L, R) for the pain an athlete reported last.

    Only one-sided pain below the waist shifts the load; "both" and back pain do not.
    """
    worst = {"L": 0, "R": 0}
    for p in pain:
        if p.side in worst and p.site not in ("back", "other"):
            worst[p.side] = max(worst[p.side], p.score)
    left, right = (1 - min(MAX_PAIN_COMPENSATION, PAIN_COMPENSATION_PER_POINT * worst[s]) for s in "LR")
    return left, right
