"""Keeping reasons from flapping, computed from event-time history alone.

Both steps are window expressions over the daily timeline, so scoring at time ``at`` is a
pure function of the history up to ``at``: replaying history gives what living it gave,
whatever the moments the scoring happened to run at.

1. ``latch`` (acute-load rules: session_spike, acwr_spike, weekly_ramp). A reason raised
   on a day keeps the worst severity of its episode while the ratio stays at or above the
   rule's clear level (its moderate threshold by default), and clears on the first day it
   is under it. Complete days are judged on their end-of-day values; adding a session can
   only raise these ratios, so the end of the day is the day's peak and no raise a live
   evaluation would have seen is lost.
2. ``hold_today`` (every rule). The day of ``at`` is not over: a reason active at the end
   of yesterday stays until today ends, at yesterday's severity if that is worse. Without
   it, a morning with no session yet would clear no_rest, the EWMA ratios and monotony,
   only for the evening session to raise them again. ``held_today`` marks the days that
   keep yesterday's verdict; the timeline holds a rule's severity at once (later rules
   read it) and its value and threshold after every rule.
"""

from __future__ import annotations

import polars as pl

from scoring.severity import QUIET, Bands
from scoring.windows import DAY_INDEX


def latch(severity: str, value: str, *, clear_at: float, bands: Bands) -> pl.Expr:
    """The named severity column, latched (its threshold must follow it: ``bands.threshold``).

    An episode is a run of days with the value at or above ``clear_at``; a day's latched
    severity is the highest one raised since its episode began.

    Computed as one running maximum over the whole column: episodes (and athletes) are
    numbered in order and each day's band level is offset by its episode's number, so the
    running maximum never carries a level from one episode into the next. That is a few
    whole-column operations, not a forward fill per severity level.
    """
    holding = (pl.col(value) >= clear_at).fill_null(False)
    # The band level a day's severity reached (the highest one at or below it), on holding
    # days. Small ranks stay Int8 and only the running maximum is Int64: each whole Int64
    # column is eight times the memory.
    level: pl.Expr = pl.lit(QUIET, dtype=pl.Int8)
    for band, _ in bands.levels:  # ascending: the highest reached wins
        level = pl.when(pl.col(severity) >= int(band)).then(pl.lit(int(band), dtype=pl.Int8)).otherwise(level)
    counted = pl.when(holding).then(level).otherwise(pl.lit(QUIET, dtype=pl.Int8))
    starts = ~holding | (pl.col(DAY_INDEX) == 0)
    offset = pl.when(starts).then(pl.lit(_EPISODE_STRIDE, dtype=pl.Int64)).otherwise(0).cum_sum()
    highest = ((offset + counted).cum_max() - offset).cast(pl.Int8)
    return pl.when(holding).then(highest).otherwise(pl.lit(QUIET, dtype=pl.Int8)).alias(severity)


_EPISODE_STRIDE = 16  # above every severity rank


def held_today(severity: str) -> pl.Expr:
    """Whether the day of ``at`` (``is_partial``) keeps yesterday's verdict: it was worse."""
    # Yesterday is the previous row when the athlete has one (day index >= 1).
    worse_yesterday = (pl.col(severity).shift(1) > pl.col(severity)) & (pl.col(DAY_INDEX) >= 1)
    return pl.col("is_partial") & worse_yesterday.fill_null(False)


def hold_today(held: str, *names: str) -> list[pl.Expr]:
    """Expressions that keep yesterday's ``names`` columns on the rows where ``held``
    (``held_today`` of the rule's severity, as a column) is true."""
    return [pl.when(pl.col(held)).then(pl.col(name).shift(1)).otherwise(pl.col(name)).alias(name) for name in names]
