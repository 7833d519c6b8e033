"""Severities and the threshold bands that map a measured value to one.

In frames a severity is an Int8 rank: 0 when a rule is quiet, else the ``Severity`` value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import polars as pl

QUIET = 0


class Severity(IntEnum):
    """Contract severities, ordered so that ``max`` gives the worst."""

    LOW = 1
    MODERATE = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """The contract's spelling: "low", "moderate", "high", "critical"."""
        return self.name.lower()


@dataclass(frozen=True, eq=False)
class Bands:
    """Ascending (severity, threshold) pairs: a value past a threshold reaches its severity.

    "Past" is ``>`` unless ``inclusive`` (``>=``), matching the wording of RULES.md. A
    threshold may be an expression when it depends on the athlete (their own history).

    Examples
    --------
    >>> import polars as pl
    >>> b = Bands(((Severity.MODERATE, 1.5), (Severity.HIGH, 2.0)))
    >>> pl.select(b.rank(pl.lit(1.5)), b.rank(pl.lit(1.6)).alias("m"), b.rank(pl.lit(2.1)).alias("h")).row(0)
    (0, 2, 3)
    """

    levels: tuple[tuple[Severity, float | pl.Expr], ...]
    inclusive: bool = False

    def rank(self, value: pl.Expr) -> pl.Expr:
        """Int8 severity rank of ``value``; 0 when below every threshold or null."""
        out: pl.Expr = pl.lit(QUIET, dtype=pl.Int8)
        for severity, threshold in self.levels:  # ascending, so the worst met one wins
            past = value >= threshold if self.inclusive else value > threshold
            out = pl.when(past).then(pl.lit(int(severity), dtype=pl.Int8)).otherwise(out)
        return out

    def threshold(self, rank: pl.Expr) -> pl.Expr:
        """The threshold that a severity rank was reached at; null for 0."""
        out: pl.Expr = pl.lit(None, dtype=pl.Float64)
        for severity, threshold in self.levels:
            at = threshold.cast(pl.Float64) if isinstance(threshold, pl.Expr) else pl.lit(float(threshold))
            out = pl.when(rank == int(severity)).then(at).otherwise(out)
        return out

    def first(self) -> float:
        """The lowest threshold: where a reason is raised and, by default, cleared."""
        threshold = self.levels[0][1]
        if isinstance(threshold, pl.Expr):
            raise TypeError("the lowest threshold depends on the athlete")
        return float(threshold)

    def rank_of(self, value: float | None, thresholds: Sequence[float | None] | None = None) -> int:
        """`rank` for one value. ``thresholds`` replace the levels' own: those that depend on the
        athlete are expressions, so the caller passes their values for this row (None: not met)."""
        out = QUIET
        if value is None:
            return out
        for (severity, _), threshold in zip(self.levels, self._values(thresholds), strict=True):
            if threshold is not None and (value >= threshold if self.inclusive else value > threshold):
                out = int(severity)  # ascending, so the worst met one wins
        return out

    def threshold_of(self, rank: int, thresholds: Sequence[float | None] | None = None) -> float | None:
        """`threshold` for one rank (None for quiet); ``thresholds`` as in `rank_of`."""
        out: float | None = None
        for (severity, _), threshold in zip(self.levels, self._values(thresholds), strict=True):
            if rank == int(severity):
                out = threshold
        return out

    def _values(self, thresholds: Sequence[float | None] | None) -> list[float | None]:
        if thresholds is not None:
            return [None if t is None else float(t) for t in thresholds]
        out: list[float | None] = []
        for severity, threshold in self.levels:
            if isinstance(threshold, pl.Expr):
                raise TypeError(f"the {severity.label} threshold depends on the athlete: pass its value")
            out.append(float(threshold))
        return out
