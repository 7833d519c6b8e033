"""Acute and chronic load, their ratio, and Foster's monotony and strain.

All functions build polars expressions over a frame of consecutive daily loads (rest days
included as 0), so a caller scores every athlete at once with ``.over(...)``.

EWMA convention: lambda = 2 / (N + 1), seeded with the first day's load (Williams et al.
2017, Br J Sports Med 51:209), acute N = 7, chronic N = 28. This is the Williams / Runalyze /
R ``ACWR`` package convention, *not* GoldenCheetah's k = 1 - exp(-1/N), which decays
slower and gives different ratios on the same loads.

Examples
--------
>>> import polars as pl
>>> days = pl.DataFrame({"load": [30.0] * 21 + [50.0] * 7})
>>> load = pl.col("load")
>>> ratios = [acute_load(load), chronic_load(load), acwr(load), rolling_ratio(load)]
>>> days.select(r.round(4).alias(str(i)) for i, r in enumerate(ratios)).row(-1)
(47.3303, 37.872, 1.2497, 1.4286)
"""

from __future__ import annotations

import polars as pl

ACUTE_DAYS = 7
CHRONIC_DAYS = 28
# Identical loads every day make the SD 0 and monotony infinite; the cap keeps strain a
# finite, comparable number (any value far above the 2.0 threshold would do).
MONOTONY_CAP = 10.0


def ewma(load: pl.Expr, days: int) -> pl.Expr:
    """EWMA with lambda = 2 / (days + 1), seeded with the first non-null day."""
    return load.ewm_mean(alpha=2.0 / (days + 1), adjust=False)


def acute_load(load: pl.Expr, days: int = ACUTE_DAYS) -> pl.Expr:
    """Acute (7-day EWMA) load."""
    return ewma(load, days)


def chronic_load(load: pl.Expr, days: int = CHRONIC_DAYS) -> pl.Expr:
    """Chronic (28-day EWMA) load."""
    return ewma(load, days)


def acwr(load: pl.Expr, acute_days: int = ACUTE_DAYS, chronic_days: int = CHRONIC_DAYS) -> pl.Expr:
    """EWMA acute:chronic workload ratio; null while the chronic load is 0."""
    return acwr_from(acute_load(load, acute_days), chronic_load(load, chronic_days))


def acwr_from(acute: pl.Expr, chronic: pl.Expr) -> pl.Expr:
    """``acwr`` from the acute and chronic loads (columns, so neither is computed twice)."""
    return pl.when(chronic > 0).then(acute / chronic)


def rolling_ratio(
    load: pl.Expr,
    acute_days: int = ACUTE_DAYS,
    chronic_days: int = CHRONIC_DAYS,
    *,
    coupled: bool = True,
) -> pl.Expr:
    """Rolling-average ACWR (Hulin 2014): acute mean / chronic mean, once a full chronic window exists.

    Coupled: the chronic window includes the acute days. Uncoupled (Windt & Gabbett 2018):
    it is the ``chronic_days - acute_days`` days before them.
    """
    acute_sum = load.rolling_sum(acute_days)
    chronic_sum = load.rolling_sum(chronic_days)
    chronic_mean = chronic_sum / chronic_days if coupled else (chronic_sum - acute_sum) / (chronic_days - acute_days)
    return pl.when(chronic_mean > 0).then(acute_sum / acute_days / chronic_mean)


def monotony(load: pl.Expr, days: int = ACUTE_DAYS) -> pl.Expr:
    """Foster 1998: mean daily load / population SD (ddof = 0) over ``days``; capped at MONOTONY_CAP.

    Null for a window without load, or shorter than ``days``.
    """
    return capped_monotony(monotony_ratio(load, days))


def monotony_ratio(load: pl.Expr, days: int = ACUTE_DAYS) -> pl.Expr:
    """The raw ratio behind ``monotony``: mean / population SD; inf where the SD is 0, null
    for a window without load.

    A window without load is tested for explicitly: polars' rolling mean and SD update
    running sums, which after a stretch of loads keep a rounding residue (about 1e-13), so
    a week of zeros would give a ratio of +-inf or a stray number instead of 0 / 0.
    """
    # Whether the window holds any load, as a count of loaded days: exact too, and about a
    # third of the time of a rolling maximum.
    loaded = (load > 0).cast(pl.Int32).rolling_sum(days) > 0
    return pl.when(loaded).then(load.rolling_mean(days) / load.rolling_std(days, ddof=0))


def capped_monotony(ratio: pl.Expr) -> pl.Expr:
    """``monotony`` from ``monotony_ratio`` (a column: ``fill_nan`` would compute it twice)."""
    # mean / 0 is +inf (clipped to the cap); 0 / 0 (no load) is null, and so is any NaN.
    return ratio.fill_nan(None).clip(upper_bound=MONOTONY_CAP)


def strain(load: pl.Expr, days: int = ACUTE_DAYS) -> pl.Expr:
    """Foster 1998: the window's total load x its monotony."""
    return load.rolling_sum(days) * monotony(load, days)
