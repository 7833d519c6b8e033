"""Training load, per session and per local calendar day, in one measure per athlete.

Two measures (`LoadSettings.measure`), and an athlete's whole series is in one of them, so
the load rules compare like with like:

- **steps** (RULES.md, Load): each step counts ``impact_g / baseline_g x descent_factor``
  (1.5 on a descent), and a step without impact (a cadence-only watch) counts 1.0 x
  descent_factor, so a session's load is ``impact_weighted_sum / baseline_g +
  plain_weighted_steps`` from its features. ``baseline_g`` is the athlete's median impact
  for the activity and sensor placement over the previous 28 days, approximated by the
  median of the previous sessions' ``impact_median`` (a median of medians: the store keeps
  no raw steps for scoring), or the session's own median when there are none yet.
- **srpe**: session RPE x minutes (Foster et al. 2001, J Strength Cond Res 15:109; CONTRACT.md,
  Additions), for teams that log how hard a session felt rather than wear pods. It is
  counted in step-equivalents, ``srpe_steps`` (40) per unit, so that the absolute floors
  (no_rest's training day, the load rules' smallest week) mean about the same training in
  both measures; every ratio the rules judge is the same as in plain sRPE units.

``auto`` (the default) takes an athlete's measure from their first training session: steps
when it has steps, sRPE when it has only a rating. A team whose athletes began with ratings
and then got pods says ``measure = "steps"`` in its thresholds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from scoring.schemas import ATHLETE_KEYS, DAY_MS

# What a reason on load says it was measured in.
MEASURES = {"steps": "impact-weighted steps", "srpe": "session RPE x minutes"}


def srpe_load(rpe: float | None, duration_s: float | None, settings: LoadSettings) -> float:
    """A session's sRPE load in step-equivalents; 0 without a rating or a duration."""
    return 0.0 if rpe is None or duration_s is None else rpe * duration_s / 60.0 * settings.srpe_steps


def first_measure(has_steps: bool, has_rpe: bool) -> str:
    """The ``auto`` measure of an athlete whose first training session has (or lacks) steps and a rating."""
    return "srpe" if has_rpe and not has_steps else "steps"


@dataclass(frozen=True, kw_only=True)
class LoadSettings:
    """Which sessions count as training load, and the impact baseline window.

    Walks and strength sessions are kept (shoe wear counts walking distance) but are not
    training load: walking steps would drown the runs in a step count. "other" is the
    activity of a session whose start message was lost, so it counts.
    """

    activities: tuple[str, ...] = ("run", "jump_rope", "other")
    baseline_days: int = 28
    measure: Literal["auto", "steps", "srpe"] = "auto"
    srpe_steps: float = 40.0  # a minute of easy running: some 160 steps, rated about 4


@dataclass(frozen=True)
class DayAggregate:
    """One per-day aggregation of a day's sessions: ``how`` (sum, first, min, max) of ``values``.

    Declared rather than written as a polars aggregation so that ``daily_loads`` can skip the
    group-by for the days that hold a single session (most of them): a day of one session
    aggregates to that session's own value (a sum of nulls to 0), which needs no grouping.
    ``of`` is ``values`` on one session row in Python, for the incremental state
    (``scoring.state``), and `over` the aggregation of a day's rows.
    """

    name: str
    values: pl.Expr
    how: Literal["sum", "first", "min", "max"]
    dtype: pl.DataType | None = None
    of: Callable[[Mapping[str, Any]], Any] = lambda _row: None

    def over(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        """The aggregate of a day's session rows (in their order), as the daily frame has it."""
        values = [self.of(row) for row in rows]
        if self.how == "first":
            return values[0]
        present = [v for v in values if v is not None]
        if self.how == "sum":
            total = 0 if self.dtype is not None and self.dtype.is_integer() else 0.0
            for v in present:
                total += v
            return total
        return (min if self.how == "min" else max)(present, default=None)

    def grouped(self) -> pl.Expr:
        """The aggregation, in a group-by over a day's sessions."""
        aggregated: pl.Expr = getattr(self.values, self.how)()
        return (aggregated if self.dtype is None else aggregated.cast(self.dtype)).alias(self.name)

    def alone(self) -> pl.Expr:
        """The same on a day of one session, row by row (cast to ``grouped``'s type after)."""
        value = self.values.fill_null(0) if self.how == "sum" else self.values
        return (value if self.dtype is None else value.cast(self.dtype)).alias(self.name)


def training_aggregates() -> list[DayAggregate]:
    """The day's training load, sessions and steps (walks and strength sessions left out)."""
    training = pl.col("training")
    return [
        DayAggregate("load", pl.when(training).then(pl.col("load")), "sum", of=lambda s: s["load"] if s["training"] else None),
        DayAggregate("n_sessions", training, "sum", pl.Int64(), of=lambda s: int(s["training"])),
        DayAggregate(
            "steps", pl.when(training).then(pl.col("n_steps")), "sum", pl.Int64(),
            of=lambda s: s["n_steps"] if s["training"] else None,
        ),
    ]  # fmt: skip


def local_day(ts: pl.Expr, tz: str = "UTC") -> pl.Expr:
    """The local calendar date of epoch-ms ``ts`` in ``tz`` (an IANA zone or a "+02:00" offset)."""
    utc = pl.from_epoch(ts, time_unit="ms").dt.replace_time_zone("UTC")
    return utc.dt.convert_time_zone(tz).dt.date()


def days_ms(days: float) -> str:
    """A window of ``days`` days for ``rolling_*_by`` on epoch-ms integers."""
    return f"{int(days * DAY_MS)}i"


def session_loads(
    features: pl.DataFrame,
    *,
    settings: LoadSettings | None = None,
    tz: str = "UTC",
    by: Sequence[str] = ATHLETE_KEYS,
) -> pl.DataFrame:
    """Session features plus ``start``, ``end``, ``day``, ``duration``, ``training``, ``baseline_g``,
    ``measure`` (the athlete's: "steps" or "srpe") and ``load`` in it.

    Sessions are sorted by athlete (the ``by`` columns) and start; one without any time is
    dropped (it cannot be placed on a calendar).
    """
    settings = settings or LoadSettings()
    start = pl.coalesce("start_ts", "first_ts")
    placed = features.with_columns(
        start=start,
        end=pl.coalesce("end_ts", "last_ts", start),
        day=local_day(start, tz),
        duration=pl.coalesce("duration_s", (pl.col("last_ts") - pl.col("first_ts")) / 1000.0),
        training=pl.col("activity").is_in(settings.activities),
    ).filter(pl.col("start").is_not_null())
    placed = placed.sort([*by, "start", "device", "session_id"])
    baseline = (
        pl.col("impact_median")
        .rolling_median_by("start", window_size=days_ms(settings.baseline_days), closed="left")
        .over([*by, "activity", "placement"])
        .fill_null(pl.col("impact_median"))
    )
    with_baseline = placed.with_columns(baseline_g=baseline, measure=measure_of(settings, by))
    steps = (pl.col("impact_weighted_sum") / pl.col("baseline_g")).fill_null(0.0) + pl.col(
        "plain_weighted_steps"
    ).fill_null(0.0)
    srpe = (pl.col("rpe") * pl.col("duration") / 60.0 * settings.srpe_steps).fill_null(0.0)
    return with_baseline.with_columns(load=pl.when(pl.col("measure") == "srpe").then(srpe).otherwise(steps))


def athlete_measures(sessions: pl.DataFrame, settings: LoadSettings, by: Sequence[str] = ATHLETE_KEYS) -> pl.DataFrame:
    """Each athlete's measure (the ``by`` columns and ``measure``), from session features or judged sessions."""
    if "measure" in sessions.columns:  # judged already
        return sessions.select(*by, "measure").unique(subset=list(by), keep="first")
    placed = sessions.with_columns(
        start=pl.coalesce("start_ts", "first_ts"), training=pl.col("activity").is_in(settings.activities)
    ).filter(pl.col("start").is_not_null())
    placed = placed.sort([*by, "start", "device", "session_id"])
    return placed.select(*by, measure=measure_of(settings, by)).unique(subset=list(by), keep="first")


def measure_of(settings: LoadSettings, by: Sequence[str]) -> pl.Expr:
    """Each athlete's measure, on sessions sorted by start (`first_measure` of their first training session)."""
    if settings.measure != "auto":
        return pl.lit(settings.measure)
    training = pl.col("training")
    first = pl.struct(has_steps=pl.col("n_steps").fill_null(0) > 0, has_rpe=pl.col("rpe").is_not_null())
    first = first.filter(training).first().over(list(by))
    return (
        pl.when(first.struct.field("has_rpe") & ~first.struct.field("has_steps"))
        .then(pl.lit("srpe"))
        .otherwise(pl.lit("steps"))
    )


@dataclass(frozen=True, eq=False)
class Calendar:
    """Every athlete's days from their first record to the last day, laid end to end.

    Athlete ``i`` (ids are dense: 0 .. n-1) owns rows ``offset[i]`` to ``offset[i] + days[i]
    - 1``, one per consecutive day, rest days included. Per-day frames are placed on it by
    row arithmetic and scatters instead of joins: a join copies the whole wide daily frame
    each time.
    """

    first_day: np.ndarray  # int32 days since 1970-01-01, per athlete id
    days: np.ndarray  # int64, per athlete id
    offset: np.ndarray  # int64, per athlete id

    @classmethod
    def spanning(cls, ids_days: Sequence[pl.DataFrame], n_athletes: int, last_day: dt.date) -> Calendar:
        """From frames with ``_id`` and ``day`` columns: each athlete's first day up to ``last_day``."""
        first = np.full(n_athletes, np.iinfo(np.int32).max, dtype=np.int64)
        for frame in ids_days:
            if frame.height:
                by_id = frame.group_by("_id").agg(pl.col("day").min().cast(pl.Int32))
                ids = by_id["_id"].to_numpy()
                first[ids] = np.minimum(first[ids], by_id["day"].to_numpy())
        last = (last_day - dt.date(1970, 1, 1)).days
        days = np.clip(last - first + 1, 0, None)
        return cls(first_day=first.astype(np.int32), days=days, offset=np.cumsum(days) - days)

    @property
    def size(self) -> int:
        return int(self.days.sum())

    def frame(self) -> pl.DataFrame:
        """``_id`` and ``day`` of every row (a per-athlete value goes on its rows by a gather at ``_id``)."""
        ids = np.repeat(np.arange(len(self.days), dtype=np.uint32), self.days)
        # Day numbers in int32 throughout: a row's day is its position past its athlete's
        # offset, from the athlete's first day (one repeat instead of two in int64).
        day = np.arange(self.size, dtype=np.int32)
        day += np.repeat((self.first_day - self.offset).astype(np.int32), self.days)
        return pl.DataFrame({"_id": ids, "day": pl.Series(day).cast(pl.Date)})

    def rows(self, frame: pl.DataFrame) -> np.ndarray:
        """The calendar row of each (``_id``, ``day``) of ``frame``; -1 outside the calendar."""
        ids = frame["_id"].to_numpy().astype(np.int64)
        position = frame["day"].cast(pl.Int32).to_numpy().astype(np.int64) - self.first_day[ids]
        inside = (position >= 0) & (position < self.days[ids])
        return np.where(inside, self.offset[ids] + position, -1)

    def scatter(
        self, rows: np.ndarray, columns: pl.DataFrame, *more: tuple[np.ndarray, pl.DataFrame]
    ) -> list[pl.Series]:
        """``columns`` (one row per calendar row in ``rows``, -1: dropped) on their rows; null
        elsewhere. ``more`` are further (rows, columns) parts with the same columns."""
        parts = []
        for part_rows, part in ((rows, columns), *more):
            inside = part_rows >= 0
            if not inside.all():
                part = part.filter(pl.Series(inside))
                part_rows = part_rows[inside]
            parts.append((pl.Series(part_rows), part))
        out = []
        for name, dtype in columns.schema.items():
            column = pl.repeat(None, self.size, dtype=dtype, eager=True).alias(name)
            for at, part in parts:
                if len(at):
                    column = column.scatter(at, part.get_column(name))
            out.append(column)
        return out

    def place(self, per_day: pl.DataFrame) -> list[pl.Series]:
        """The columns of ``per_day`` (one row per ``_id`` and ``day``) on their rows; null elsewhere."""
        return self.scatter(self.rows(per_day), per_day.drop("_id", "day"))


def _dense_ids(frames: Sequence[pl.DataFrame], keys: list[str]) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The sorted athlete keys of all ``frames`` numbered ``_id`` 0..n-1, and the frames keyed by ``_id``."""
    if len(keys) == 1 and all(f.schema[keys[0]].is_integer() for f in frames):
        # Integer keys (the timeline's athlete_key): count them instead of hashing them.
        values = [f[keys[0]].to_numpy() for f in frames if f.height]
        top = max((int(v.max()) for v in values), default=-1)
        seen = np.zeros(top + 1, dtype=bool)
        for v in values:
            seen[v] = True
        if seen.all():  # already dense: no mapping
            ids = pl.DataFrame({keys[0]: pl.Series(np.arange(top + 1)).cast(frames[0].schema[keys[0]])})
            return ids.with_columns(pl.col(keys[0]).alias("_id")), [f.rename({keys[0]: "_id"}) for f in frames]
    ids = pl.concat([f.select(keys) for f in frames]).unique().sort(keys).with_row_index("_id")
    return ids, [f.join(ids, on=keys).drop(keys) for f in frames]


def daily_loads(
    loads: pl.DataFrame,
    *,
    tz: str = "UTC",
    until: int | None = None,
    aggregations: Sequence[pl.Expr | DayAggregate] = (),
    also: Sequence[pl.DataFrame] = (),
    by: Sequence[str] = ATHLETE_KEYS,
    per_session: Callable[[pl.DataFrame, Calendar], list[pl.Series]] | None = None,
) -> pl.DataFrame:
    """Daily training load per athlete over a continuous calendar, zero-load rest days included.

    ``loads`` comes from ``session_loads`` (same ``tz``); ``by`` names its athlete columns.
    The calendar runs from the athlete's first day with a session (or a row in one of the
    ``also`` frames) to the day of ``until`` (epoch ms), or to the last such day. ``load``
    is null before the athlete's first training day, so an EWMA is seeded with that day
    (Williams 2017). ``aggregations`` are extra per-day aggregations over the day's
    sessions (``DayAggregate``, or polars aggregations); ``also`` are extra frames of one
    row per athlete and ``day`` whose other columns are placed on their days (null
    elsewhere); ``per_session`` gets the sessions (``_id``, ``day``, their calendar ``_row``,
    sorted by it) and the ``Calendar`` and returns more calendar columns. Rows are sorted by
    athlete and day.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> loads = pl.DataFrame({"team": "t", "athlete": "a", "training": True,
    ...     "n_steps": [500, 700], "load": [500.0, 700.0],
    ...     "day": [dt.date(2026, 1, 1), dt.date(2026, 1, 3)]})
    >>> daily_loads(loads)["load"].to_list()
    [500.0, 0.0, 700.0]
    """
    keys = list(by)
    ids, frames = _dense_ids([loads, *also], keys)
    if until is not None:
        last_day = pl.select(local_day(pl.lit(until, dtype=pl.Int64), tz)).item()
    else:
        last_day = max((d for f in frames if (d := f["day"].max()) is not None), default=dt.date(1970, 1, 1))
    calendar = Calendar.spanning([f.select("_id", "day") for f in frames], ids.height, last_day)

    sessions = frames[0]
    # One integer key per athlete-day, sorted: days are contiguous slices. The sort is
    # stable, so each day's sessions keep their order ("first" aggregations).
    rows = calendar.rows(sessions)
    sessions = sessions.with_columns(_row=pl.Series(rows))
    if (rows < 0).any():  # sessions after the last day
        sessions = sessions.filter(pl.col("_row") >= 0)
    if not sessions["_row"].is_sorted():
        sessions = sessions.sort("_row", maintain_order=True)
    sessions = sessions.with_columns(pl.col("_row").set_sorted())
    placed = _per_day(sessions, calendar, [*training_aggregates(), *aggregations])

    first_training = pl.repeat(None, ids.height, dtype=pl.Date, eager=True)
    # Two columns filtered, not every column of the sessions.
    trained = sessions.select("_id", "day").filter(sessions.get_column("training"))
    trained = trained.group_by("_id").agg(pl.col("day").min())
    first_training = first_training.scatter(trained["_id"], trained["day"])

    for frame in frames[1:]:
        placed += calendar.place(frame)
    if per_session is not None:
        placed += per_session(sessions, calendar)
    daily = calendar.frame().hstack(placed)
    started = pl.col("day") >= pl.col("first_training_day")
    names = ids.drop("_id").gather(daily["_id"])
    return (
        daily.with_columns(first_training_day=first_training.gather(daily.get_column("_id")))
        .hstack(names)
        .select(
            *keys,
            "day",
            pl.when(started).then(pl.col("load").fill_null(0.0)).alias("load"),
            pl.col("n_sessions").fill_null(0),
            pl.col("steps").fill_null(0),
            "first_training_day",
            pl.exclude(*keys, "_id", "day", "load", "n_sessions", "steps", "first_training_day"),
        )
    )


def single_rows(rows: np.ndarray) -> np.ndarray:
    """For sorted calendar rows: which hold the only session of their day."""
    alone = np.ones(len(rows), dtype=bool)
    same = rows[1:] == rows[:-1]
    alone[1:] &= ~same
    alone[:-1] &= ~same
    return alone


def _per_day(
    sessions: pl.DataFrame, calendar: Calendar, aggregations: Sequence[pl.Expr | DayAggregate]
) -> list[pl.Series]:
    """The day aggregations of ``sessions`` (sorted by ``_row``) on the calendar."""
    if not all(isinstance(a, DayAggregate) for a in aggregations):  # polars aggregations: group every day
        exprs = [a.grouped() if isinstance(a, DayAggregate) else a for a in aggregations]
        per_day = sessions.group_by("_row", maintain_order=True).agg(exprs)
        return calendar.scatter(per_day["_row"].to_numpy(), per_day.drop("_row"))
    declared = [a for a in aggregations if isinstance(a, DayAggregate)]
    rows = sessions["_row"].to_numpy()
    alone = single_rows(rows)
    several = sessions.filter(pl.Series(~alone))
    grouped = several.group_by("_row", maintain_order=True).agg(a.grouped() for a in declared)
    single = sessions.select(a.alone() for a in declared).filter(pl.Series(alone))
    single = single.cast(grouped.drop("_row").schema)
    return calendar.scatter(rows[alone], single, (grouped["_row"].to_numpy(), grouped.drop("_row")))
