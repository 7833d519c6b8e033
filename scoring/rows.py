"""The incremental athlete state's building blocks, shared by the state and the rules' row forms.

A session or a day is a dict of columns (`Row`) named as in the polars frames while it
is computed, and a `Record` (the same columns, a third of the memory) once it is kept;
`Days` gives the rules the athlete's earlier days; `window`, `median` and `quantile` are
polars' ``rolling_*_by`` windows and statistics on one row, to the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]  # a row being computed
Kept = Mapping[str, Any]  # a row kept: a Row or a Record


class Record(Mapping[str, Any]):
    """A kept row: its values in a tuple, its column positions shared by every row of its shape
    (`Shapes`); a dict of a hundred columns per day and per session would cost three times the memory."""

    __slots__ = ("_columns", "_values")

    def __init__(self, columns: dict[str, int], values: tuple[Any, ...]) -> None:
        self._columns = columns
        self._values = values

    def __getitem__(self, name: str) -> Any:
        return self._values[self._columns[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._values)

    def values_tuple(self) -> tuple[Any, ...]:
        """The values in column order."""
        return self._values


class Shapes:
    """The column positions of each shape of row, made once and shared."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, ...], dict[str, int]] = {}

    def freeze(self, row: Kept) -> Record:
        if isinstance(row, Record):
            return row
        names = tuple(row)
        columns = self._shapes.get(names)
        if columns is None:
            columns = self._shapes[names] = {name: i for i, name in enumerate(names)}
        return Record(columns, tuple(row.values()))


class Days:
    """The athlete's daily rows, oldest first; rules read earlier days through it.

    Row ``i`` is the athlete's ``i``-th calendar day. Only the recent rows are kept
    (``offset`` is the first one's index), long enough back for every window a rule reads
    (35 days at most) plus the days a late event may still land on; the daily strain, which
    monotony reads 203 days back, is kept apart for longer (``strain``).
    """

    def __init__(self) -> None:
        self.rows: list[Kept] = []
        self.offset = 0
        self.strains: list[float | None] = []
        self.strain_offset = 0

    def __getitem__(self, i: int) -> Kept:
        if i < self.offset:
            raise IndexError(f"day {i} is no longer kept (the rows start at {self.offset})")
        return self.rows[i - self.offset]

    def __len__(self) -> int:
        """The index of the next day."""
        return self.offset + len(self.rows)

    def truncate(self, i: int) -> None:
        """Forget the rows from day ``i`` on (they are computed again)."""
        del self.rows[max(i - self.offset, 0) :]
        del self.strains[max(i - self.strain_offset, 0) :]

    def append(self, row: Kept) -> None:
        self.rows.append(row)
        self.strains.append(row["strain"])

    def keep(self, rows: int, strains: int) -> None:
        """Keep only the last ``rows`` rows and ``strains`` strains."""
        if len(self.rows) > rows:
            self.offset += len(self.rows) - rows
            del self.rows[: len(self.rows) - rows]
        if len(self.strains) > strains:
            self.strain_offset += len(self.strains) - strains
            del self.strains[: len(self.strains) - strains]

    def strain(self, i: int) -> float | None:
        if i < self.strain_offset:
            raise IndexError(f"day {i}'s strain is no longer kept (from {self.strain_offset})")
        return self.strains[i - self.strain_offset]

    def lag(self, i: int, name: str, k: int) -> Any:
        """``name`` ``k`` days before row ``i``; None before the first day (``windows.lag``)."""
        return self[i - k][name] if i - k >= 0 else None

    def rolling_sum(self, i: int, name: str, n: int) -> Any:
        """The last ``n`` days' sum, today included, nulls as 0 (``windows.rolling_sum``).

        A float column keeps a running total ``_cum_{name}`` and the window is the
        difference of totals, computed as the timeline computes it, so the sums agree to
        the last bit; whole numbers are summed directly.
        """
        start = max(i - n + 1, 0)
        cumulative = f"_cum_{name}"
        if cumulative in self[i]:
            first = self[start]
            return self[i][cumulative] - (first[cumulative] - (first[name] or 0.0))
        return sum(self[j][name] or 0 for j in range(start, i + 1))


@dataclass(frozen=True)
class Pain:
    """One pain entry of a report (a row of ``WELLNESS_SCHEMA``), on its local day."""

    ts: int
    day: int
    site: str
    side: str
    score: int
    kind: str


def window(sessions: Sequence[Kept], j: int, since: int, *, closed: str = "left") -> list[Kept]:
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
