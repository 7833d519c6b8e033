"""The athlete's overall level and 0-100 score from their active reasons, and alert states.

Level (RULES.md): the highest severity among active reasons; three or more moderate
reasons together make it high; no reason at all is "low".

Score: the level sets a band and each active reason beyond the first adds 5 points, up to
the top of the band::

    level      band     e.g.
    low        0        no reason
    moderate   30-59    one moderate reason: 30; two: 35
    high       60-89    one high reason: 60; three moderates: 70
    critical   90-100   acute pain alone: 90

so a score never contradicts the level, and more reasons at one level rank higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from scoring.severity import Severity

BAND_FLOOR = {Severity.LOW: 0, Severity.MODERATE: 30, Severity.HIGH: 60, Severity.CRITICAL: 90}
BAND_TOP = {Severity.LOW: 0, Severity.MODERATE: 59, Severity.HIGH: 89, Severity.CRITICAL: 100}
POINTS_PER_EXTRA_REASON = 5
MODERATES_MAKING_HIGH = 3

AlertState = Literal["raised", "updated", "cleared"]


def level_expr(severities: Sequence[str]) -> pl.Expr:
    """Int8 level from the rules' severity rank columns."""
    worst = pl.max_horizontal(pl.col(s) for s in severities)
    moderates = pl.sum_horizontal((pl.col(s) == int(Severity.MODERATE)).cast(pl.Int32) for s in severities)
    level = (
        pl.when(moderates >= MODERATES_MAKING_HIGH).then(pl.max_horizontal(worst, int(Severity.HIGH))).otherwise(worst)
    )
    return pl.max_horizontal(level, int(Severity.LOW)).cast(pl.Int8)


def score_expr(level: pl.Expr, severities: Sequence[str]) -> pl.Expr:
    """Int64 score 0-100 from the level and the number of active reasons."""
    active = pl.sum_horizontal((pl.col(s) > 0).cast(pl.Int64) for s in severities)
    score: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for severity in Severity:
        extra = POINTS_PER_EXTRA_REASON * (active - 1).clip(lower_bound=0)
        banded = pl.min_horizontal(BAND_FLOOR[severity] + extra, BAND_TOP[severity])
        score = pl.when(level == int(severity)).then(banded).otherwise(score)
    return score


def alert_state(
    previous: tuple[Severity, frozenset[str]] | None, current: tuple[Severity, frozenset[str]]
) -> AlertState | None:
    """What to publish when an athlete's (level, active rule ids) goes from ``previous`` to ``current``.

    Raised on the way up from low, updated when the level or the reasons change, cleared on
    the way back to low; None when nothing changed (no new message). A coach is notified
    on "raised", "cleared" and on an "updated" whose level is higher (``escalated``).
    """
    was_low = previous is None or previous[0] == Severity.LOW
    is_low = current[0] == Severity.LOW
    if was_low:
        return None if is_low else "raised"
    if is_low:
        return "cleared"
    return None if previous == current else "updated"


def escalated(previous: tuple[Severity, frozenset[str]] | None, current: tuple[Severity, frozenset[str]]) -> bool:
    """True when the level went up: the coach is notified."""
    return previous is not None and current[0] > previous[0]


def level_and_score(severities: Sequence[Severity]) -> tuple[Severity, int]:
    """The level and score of a set of active reasons' severities: `level_expr` and
    `score_expr` for one athlete, in Python (for merging live reasons into an assessment)."""
    active = list(severities)
    if not active:
        return Severity.LOW, BAND_FLOOR[Severity.LOW]
    level = max(active)
    if sum(s == Severity.MODERATE for s in active) >= MODERATES_MAKING_HIGH:
        level = max(level, Severity.HIGH)
    extra = POINTS_PER_EXTRA_REASON * (len(active) - 1)
    return level, min(BAND_FLOOR[level] + extra, BAND_TOP[level])
