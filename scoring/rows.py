"""The incremental athlete state's building blocks, shared by the state and the rules' row forms.

A session or a day is a plain dict of columns (`Row`), named as in the polars frames;
`Days` gives the rules the athlete's earlier days; `window`, `median` and `quantile` are
polars' ``rolling_*_by`` windows and statistics on one row, to the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


class Days:
    """The athlete's daily rows, first record day first; rules read earlier days through it.

    Row ``i`` is day ``first_day + i`` (proleptic ordinals, `datetime.date.toordinal`).
    """

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def lag(self, i: int, name: str, k: int) -> Any:
        """``name`` ``k`` days before row ``i``; None before the first day (``windows.lag``)."""
        return self.rows[i - k][name] if i - k >= 0 else None

    def rolling_sum(self, i: int, name: str, n: int) -> Any:
        """The last ``n`` days' sum, today included, nulls as 0 (``windows.rolling_sum``).

        A float column keeps a running total ``_cum_{name}`` and the window is the
        difference of totals, computed as the timeline computes it, so the sums agree to
        the last bit; whole numbers are summed directly.
        """
        start = max(i - n + 1, 0)
        cumulative = f"_cum_{name}"
        if cumulative in self.rows[i]:
            first = self.rows[start]
            return self.rows[i][cumulative] - (first[cumulative] - (first[name] or 0.0))
        return sum(self.rows[j][name] or 0 for j in range(start, i + 1))


@dataclass(frozen=True)
class Pain:
    """One pain entry of a report (a row of ``WELLNESS_SCHEMA``), on its local day."""

    ts: int
    day: int
    site: str
    side: str
    score: int
    kind: str


def window(sessions: Sequence[Row], j: int, since: int, *, closed: str = "left") -> list[Row]:
    """The sessions in session ``j``'s time window, in order: ``[since, start)`` for a window
    closed on the left, ``(since, start]`` closed on the right, as polars' ``rolling_*_by``
    (sessions at the same start share a window: a left one leaves them all out, a right one
    takes them all in)."""
    start = sessions[j]["start"]
    out = []
    k = j - 1
    while k >= 0 and sessions[k]["start"] >= since:
        out.append(sessions[k])
        k -= 1
    out.reverse()
    if closed == "left":
        return [s for s in out if s["start"] < start]
    out = [s for s in out if s["start"] > since]
    k = j
    while k < len(sessions) and sessions[k]["start"] == start:
        out.append(sessions[k])
        k += 1
    return out


def median(values: Iterable[float | None]) -> float | None:
    """Polars' median of the values present (the mean of the middle two as ``lo + 0.5 (hi - lo)``)."""
    return quantile(values, 0.5)


def quantile(values: Iterable[float | None], q: float) -> float | None:
    """Polars' linear-interpolation quantile of the values present; None without any."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    position = q * (len(present) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return present[low] + (position - low) * (present[high] - present[low])
