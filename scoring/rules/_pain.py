"""Turning pain reports into the days a pain rule is active."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import polars as pl

from scoring.rows import Pain
from scoring.rules._rule import ATHLETE


def site_days(wellness: pl.DataFrame, by: list[str], *, sharp_kinds: tuple[str, ...] = ()) -> pl.DataFrame:
    """One row per athlete, ``by`` (site, side...) and day reported: the day's worst score,
    whether any report was of a ``sharp_kinds`` kind, and the next report's day."""
    group = [ATHLETE, *by]
    days = wellness.group_by([*group, "day"]).agg(
        score=pl.col("score").max(), sharp=pl.col("kind").is_in(sharp_kinds).any()
    )
    next_day = pl.when(same_group(group, -1)).then(pl.col("day").shift(-1))
    return days.sort([*group, "day"]).with_columns(next_day=next_day)


def same_group(group: list[str], n: int) -> pl.Expr:
    """Whether the row ``shift(n)`` brings here is of the same ``group`` (in a frame sorted
    by it): a whole-column shift masked at group edges does what ``over(group)`` would, and
    costs far less for tens of thousands of groups of a few rows each."""
    return pl.all_horizontal(pl.col(key).eq_missing(pl.col(key).shift(n)) for key in group)


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


def report_days(
    pain: Sequence[Pain], by: Callable[[Pain], tuple[str, ...]], sharp_kinds: tuple[str, ...] = ()
) -> dict[tuple[str, ...], list[tuple[int, int, bool]]]:
    """`site_days` for the row form: per ``by`` key, its report days in order as (day, the
    day's worst score, whether any report was of a ``sharp_kinds`` kind)."""
    days: dict[tuple[str, ...], dict[int, tuple[int, bool]]] = {}
    for entry in pain:
        per_day = days.setdefault(by(entry), {})
        score, sharp = per_day.get(entry.day, (entry.score, False))
        per_day[entry.day] = (max(score, entry.score), sharp or entry.kind in sharp_kinds)
    return {key: [(day, *per_day[day]) for day in sorted(per_day)] for key, per_day in days.items()}


def spread_days(held: Iterable[tuple[int, int, float]], severity: int) -> dict[int, tuple[int, float]]:
    """`spread` for the row form: (first day, last day, value) holds -> day -> (severity, largest value)."""
    out: dict[int, tuple[int, float]] = {}
    for first, last, value in held:
        for day in range(first, last + 1):
            if day not in out or value > out[day][1]:
                out[day] = (severity, value)
    return out
