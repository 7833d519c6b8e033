"""Synthetic session features and pain reports at any scale, built directly in numpy/polars.

A realistic mix for the scoring benchmark: each athlete trains on most days (runs, some
jump-rope, some walks that are not training load), now and then twice a day, with a few
breaks, shoes, surfaces (some undeclared), sensor placements, cadence-only watches (no
impact), and a pain report on about 1% of days. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from scoring.schemas import DAY_MS, SESSION_FEATURES_SCHEMA, WELLNESS_SCHEMA

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR_MS = 3_600_000

ACTIVITIES = np.array(["run", "jump_rope", "walk"])
SURFACES = np.array(["asphalt", "track", "grass", "trail", "treadmill", "concrete", None], dtype=object)
PLACEMENTS = np.array(["shoe", "ankle", "wrist"])
SITES = np.array(["knee", "calf", "achilles", "shin", "foot"])
KINDS = np.array(["ache", "tight", "sharp"])


def end_at(days: int) -> int:
    """The last millisecond of the last synthetic day: scoring sees all of it."""
    return T0 + days * DAY_MS - 1


def features(n_athletes: int, days: int, *, seed: int = 0, team: str = "bench") -> pl.DataFrame:
    """Session features (``SESSION_FEATURES_SCHEMA``) for ``n_athletes`` x ``days``.

    Every athlete trains on day 0, so their calendars (ours and the peer's) start together.
    """
    rng = np.random.default_rng(seed)
    # Per athlete: how often they train, their usual session size, placement, cadence-only or not.
    train_p = rng.uniform(0.55, 0.95, n_athletes)
    base_steps = rng.uniform(1500, 6000, n_athletes)
    placement = PLACEMENTS[rng.integers(0, len(PLACEMENTS), n_athletes)]
    cadence_only = rng.random(n_athletes) < 0.15
    jumper = rng.random(n_athletes) < 0.2

    athlete_day = np.arange(n_athletes * days)
    athlete = athlete_day // days
    day = athlete_day % days
    trains = rng.random(n_athletes * days) < train_p[athlete]
    trains[day == 0] = True
    # A three-week break for a tenth of the athletes, somewhere in the year.
    breaker = rng.random(n_athletes) < 0.1
    break_start = rng.integers(30, max(31, days - 30), n_athletes)
    on_break = breaker[athlete] & (day >= break_start[athlete]) & (day < break_start[athlete] + 21)
    trains &= ~on_break
    # About 8% of training days have a second session.
    doubles = trains & (rng.random(n_athletes * days) < 0.08)
    a = np.concatenate([athlete[trains], athlete[doubles]])
    d = np.concatenate([day[trains], day[doubles]])
    hour = np.concatenate([rng.uniform(6.0, 9.0, trains.sum()), rng.uniform(17.0, 20.0, doubles.sum())])
    order = np.lexsort((hour, d, a))
    a, d, hour = a[order], d[order], hour[order]
    n = len(a)

    roll = rng.random(n)
    activity = np.where(roll < 0.08, 2, np.where(jumper[a] & (roll > 0.6), 1, 0))
    # A slow build-up over the year with day-to-day noise and the occasional spike.
    growth = 1.0 + 0.5 * d / max(days, 1)
    spike = np.where(rng.random(n) < 0.01, rng.uniform(1.5, 3.0, n), 1.0)
    n_steps = np.maximum(50, base_steps[a] * growth * spike * rng.lognormal(0.0, 0.25, n)).astype(np.int64)
    no_impact = cadence_only[a]
    impact_median = np.where(no_impact, np.nan, rng.normal(5.0, 0.6, n).clip(2.0, 9.0))
    descent_share = rng.beta(1.2, 8.0, n)
    descent_steps = (n_steps * descent_share).astype(np.int64)
    factor = 1.0 + 0.5 * descent_share  # 1.5x on descents
    impact_weighted_sum = np.where(no_impact, 0.0, n_steps * impact_median * factor)
    plain_weighted_steps = np.where(no_impact, n_steps * factor, 0.0)
    cadence_spm = np.where(activity == 1, 120.0, 165.0)
    duration_s = n_steps / cadence_spm * 60.0 * rng.uniform(0.95, 1.3, n)
    start_ts = T0 + d.astype(np.int64) * DAY_MS + (hour * HOUR_MS).astype(np.int64)
    end_ts = start_ts + (duration_s * 1000).astype(np.int64)
    distance_m = np.where(activity == 1, np.nan, n_steps * rng.uniform(0.9, 1.2, n))
    surface_idx = rng.integers(0, len(SURFACES), n)
    # A new pair of shoes every ~150 days per athlete.
    shoe = (d // 150).astype(np.int64).astype(str)
    asym = rng.normal(0.0, 0.04, n)
    impact_l = np.where(no_impact, np.nan, impact_median * (1 + asym / 2))
    impact_r = np.where(no_impact, np.nan, impact_median * (1 - asym / 2))
    names = np.char.add("a", np.char.zfill(np.arange(n_athletes).astype(str), 6))

    frame = pl.DataFrame(
        {
            "team": pl.Series([team]).gather(np.zeros(n, dtype=np.int64)),
            "athlete": pl.Series(names).gather(a),
            "device": pl.Series(names).gather(a).str.replace("a", "dev-", literal=True),
            "session_id": pl.Series(np.arange(n)).cast(pl.String),
            "activity": pl.Series(ACTIVITIES).gather(activity),
            "surface": pl.Series(list(SURFACES), dtype=pl.String).gather(surface_idx),
            "shoe_id": pl.Series(names).gather(a) + "-shoe" + pl.Series(shoe),
            "placement": pl.Series(placement).gather(a),
            "start_ts": start_ts,
            "end_ts": end_ts,
            "duration_s": duration_s,
            "distance_m": distance_m,
            "rpe": pl.repeat(None, n, dtype=pl.Float64, eager=True),  # pods: load in steps
            "n_steps": n_steps,
            "n_impact": np.where(no_impact, 0, n_steps),
            "impact_median": impact_median,
            "impact_weighted_sum": impact_weighted_sum,
            "plain_weighted_steps": plain_weighted_steps,
            "descent_steps": descent_steps,
            "warmup_ratio": rng.uniform(0.7, 1.0, n),
            "fatigue_cadence_change": rng.normal(-0.02, 0.03, n),
            "fatigue_impact_change": np.where(no_impact, np.nan, rng.normal(0.03, 0.05, n)),
            "impact_mean_L": impact_l,
            "impact_mean_R": impact_r,
            "first_ts": start_ts,
            "last_ts": end_ts,
            "cadence_median": cadence_spm * rng.uniform(0.95, 1.05, n),
        },
        nan_to_null=True,
    )
    return frame.select(pl.col(name).cast(dtype) for name, dtype in SESSION_FEATURES_SCHEMA.items())


def wellness(n_athletes: int, days: int, *, seed: int = 0, team: str = "bench", rate: float = 0.01) -> pl.DataFrame:
    """Pain reports (``WELLNESS_SCHEMA``) on about ``rate`` of athlete-days, evening, after day 0."""
    rng = np.random.default_rng(seed + 1)
    n = int(n_athletes * days * rate)
    a = rng.integers(0, n_athletes, n)
    d = rng.integers(1, max(2, days), n)
    order = np.lexsort((d, a))
    a, d = a[order], d[order]
    names = np.char.add("a", np.char.zfill(np.arange(n_athletes).astype(str), 6))
    return pl.DataFrame(
        {
            "team": pl.Series([team]).gather(np.zeros(n, dtype=np.int64)),
            "athlete": pl.Series(names).gather(a),
            "ts": T0 + d.astype(np.int64) * DAY_MS + 20 * HOUR_MS,
            "site": pl.Series(SITES).gather(rng.integers(0, len(SITES), n)),
            "side": pl.Series(np.array(["L", "R"])).gather(rng.integers(0, 2, n)),
            "score": rng.choice(np.arange(1, 10), n, p=[0.2, 0.2, 0.15, 0.15, 0.1, 0.08, 0.06, 0.04, 0.02]),
            "kind": pl.Series(KINDS).gather(rng.choice(3, n, p=[0.6, 0.3, 0.1])),
        },
        schema_overrides=dict(WELLNESS_SCHEMA),
    ).select(pl.col(name).cast(dtype) for name, dtype in WELLNESS_SCHEMA.items())
