"""Per-athlete windows on the daily timeline, computed on whole columns.

The timeline is sorted by athlete and day, one row per day without gaps, with ``_row``
(the row's position in the frame) and ``_day_index`` (its position within the athlete).
``expr.over(athlete)`` would split the frame into one group per athlete, which for 10,000
athletes costs far more than the arithmetic; these helpers run each operation once over
the whole column and mask the rows where a window would reach into the previous athlete.
"""

from __future__ import annotations

import polars as pl

ROW = "_row"
DAY_INDEX = "_day_index"


def day_index(athlete: pl.Expr) -> pl.Expr:
    """Position of each row within its athlete, for a frame sorted by athlete (``_row`` set)."""
    starts = athlete != athlete.shift(1)
    return pl.col(ROW) - pl.when(starts.fill_null(True)).then(pl.col(ROW)).forward_fill()


def first_row() -> pl.Expr:
    """The row of the athlete's first day."""
    return pl.col(ROW) - pl.col(DAY_INDEX)


def lag(x: pl.Expr, days: int) -> pl.Expr:
    """``x`` ``days`` days earlier; null before the athlete's first day."""
    return pl.when(pl.col(DAY_INDEX) >= days).then(x.shift(days))


def rolling_sum(x: pl.Expr, days: int) -> pl.Expr:
    """Sum of ``x`` (nulls count 0) over the last ``days`` days, today included; fewer at
    the athlete's start. A difference of whole-column prefix sums: exact for whole numbers."""
    values = x.fill_null(0)
    through = values.cum_sum()
    window_start = pl.max_horizontal(pl.col(ROW) - (days - 1), first_row())
    return through - (through - values).gather(window_start)


def full_window(rolled: pl.Expr, days: int) -> pl.Expr:
    """A whole-column rolling result, kept where its ``days``-day window is all this athlete's."""
    return pl.when(pl.col(DAY_INDEX) >= days - 1).then(rolled)


def last_row(condition: pl.Expr) -> pl.Expr:
    """The latest row, today included, where ``condition`` held for this athlete; else null."""
    row = pl.when(condition).then(pl.col(ROW)).forward_fill()
    return pl.when(row >= first_row()).then(row)


def at_row(x: pl.Expr, row: pl.Expr, *, within: int | None = None) -> pl.Expr:
    """``x`` on ``row`` (from ``last_row``), if that is at most ``within - 1`` days ago."""
    if within is not None:
        row = pl.when(pl.col(ROW) - row < within).then(row)
    return x.gather(row)


def latest(x: pl.Expr, where: pl.Expr) -> pl.Expr:
    """``x`` (null included) on the latest day ``where`` held."""
    return at_row(x, last_row(where))
