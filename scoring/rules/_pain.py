"""Turning pain reports into the days a pain rule is active."""

from __future__ import annotations

import polars as pl

from scoring.rules._rule import ATHLETE


def site_days(wellness: pl.DataFrame, by: list[str], *, sharp_kinds: tuple[str, ...] = ()) -> pl.DataFrame:
    """One row per athlete, ``by`` (site, side...) and day reported: the day's worst score,
    whether any report was of a ``sharp_kinds`` kind, and the next report's day."""
    group = [ATHLETE, *by]
    days = wellness.group_by([*group, "day"]).agg(
        score=pl.col("score").max(), sharp=pl.col("kind").is_in(sharp_kinds).any()
    )
    return days.sort([*group, "day"]).with_columns(next_day=pl.col("day").shift(-1).over(group))


def spread(active: pl.DataFrame, *, last_day: pl.Expr, severity: int, value: pl.Expr, prefix: str) -> pl.DataFrame:
    """Rows of ``active`` (one per report day) held until ``last_day`` and before the next
    report at the same site: one row per athlete and day, the largest value kept."""
    until = pl.min_horizontal(last_day, pl.col("next_day") - pl.duration(days=1))
    return (
        active.select(ATHLETE, value.cast(pl.Float64).alias("value"), day=pl.date_ranges("day", until))
        .explode("day", empty_as_null=False)
        .group_by(ATHLETE, "day")
        .agg(pl.col("value").max().alias(f"{prefix}d_value"))
        .with_columns(pl.lit(severity, dtype=pl.Int8).alias(f"{prefix}d_sev"))
    )
