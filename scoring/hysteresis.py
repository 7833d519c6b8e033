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
   only for the evening session to raise them again.
"""

from __future__ import annotations

import polars as pl

from scoring.severity import QUIET, Bands
from scoring.windows import first_row, lag, last_row


def latch(severity: str, value: str, *, clear_at: float, bands: Bands) -> pl.Expr:
    """The named severity column, latched (its threshold must follow it: ``bands.threshold``).

    An episode is a run of days with the value at or above ``clear_at``; a day's latched
    severity is the highest one raised since its episode began.
    """
    holding = (pl.col(value) >= clear_at).fill_null(False)
    episode_start = last_row(~holding).fill_null(first_row() - 1)
    latched: pl.Expr = pl.lit(QUIET, dtype=pl.Int8)
    for level, _ in bands.levels:
        raised = (last_row(pl.col(severity) >= int(level)) > episode_start).fill_null(False)
        latched = pl.when(holding & raised).then(pl.lit(int(level), dtype=pl.Int8)).otherwise(latched)
    return latched.alias(severity)


def hold_today(severity: str, value: str, threshold: str) -> list[pl.Expr]:
    """Expressions that keep yesterday's worse verdict on the day of ``at`` (``is_partial``)."""
    use_yesterday = pl.col("is_partial") & (lag(pl.col(severity), 1) > pl.col(severity)).fill_null(False)
    return [
        pl.when(use_yesterday).then(lag(pl.col(name), 1)).otherwise(pl.col(name)).alias(name)
        for name in (severity, value, threshold)
    ]
