"""Training load in impact-weighted steps, per session and per local calendar day.

RULES.md, Load: each step counts ``impact_g / baseline_g x descent_factor`` (1.5 on a
descent), and a step without impact (a cadence-only watch) counts 1.0 x descent_factor, so
a session's load is ``impact_weighted_sum / baseline_g + plain_weighted_steps`` from its
features. ``baseline_g`` is the athlete's median impact for the activity and sensor
placement over the previous 28 days, approximated by the median of the previous sessions'
``impact_median`` (a median of medians: the store keeps no raw steps for scoring), or the
session's own median when there are none yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from scoring.schemas import ATHLETE_KEYS, DAY_MS


@dataclass(frozen=True, kw_only=True)
class LoadSettings:
    """Which sessions count as training load, and the impact baseline window.

    Walks and strength sessions are kept (shoe wear counts walking distance) but are not
    training load: walking steps would drown the runs in a step count. "other" is the
    activity of a session whose start message was lost, so it counts.
    """

    activities: tuple[str, ...] = ("run", "jump_rope", "other")
    baseline_days: int = 28


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
    """Session features plus ``start``, ``end``, ``day``, ``duration``, ``training``, ``baseline_g`` and ``load``.

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
    with_baseline = placed.with_columns(baseline_g=baseline)
    return with_baseline.with_columns(
        load=(pl.col("impact_weighted_sum") / pl.col("baseline_g")).fill_null(0.0) + pl.col("plain_weighted_steps")
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
        """``_id`` and ``day`` of every row."""
        ids = np.repeat(np.arange(len(self.days), dtype=np.uint32), self.days)
        day = np.repeat(self.first_day, self.days) + (np.arange(self.size) - np.repeat(self.offset, self.days))
        return pl.DataFrame({"_id": ids, "day": pl.Series(day.astype(np.int32)).cast(pl.Date)})

    def per_athlete(self, values: pl.Series) -> pl.Series:
        """A per-athlete value (indexed by id) on every row of that athlete."""
        return values.gather(pl.Series(np.repeat(np.arange(len(self.days)), self.days)))

    def rows(self, frame: pl.DataFrame) -> np.ndarray:
        """The calendar row of each (``_id``, ``day``) of ``frame``; -1 outside the calendar."""
        ids = frame["_id"].to_numpy().astype(np.int64)
        position = frame["day"].cast(pl.Int32).to_numpy().astype(np.int64) - self.first_day[ids]
        inside = (position >= 0) & (position < self.days[ids])
        return np.where(inside, self.offset[ids] + position, -1)

    def scatter(self, rows: np.ndarray, columns: pl.DataFrame) -> list[pl.Series]:
        """``columns`` (one row per calendar row in ``rows``, -1: dropped) on their rows; null elsewhere."""
        inside = rows >= 0
        if not inside.all():
            columns = columns.filter(pl.Series(inside))
            rows = rows[inside]
        at = pl.Series(rows)
        return [
            pl.repeat(None, self.size, dtype=column.dtype, eager=True).alias(column.name).scatter(at, column)
            for column in columns.iter_columns()
        ]

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
    aggregations: Sequence[pl.Expr] = (),
    also: Sequence[pl.DataFrame] = (),
    by: Sequence[str] = ATHLETE_KEYS,
) -> pl.DataFrame:
    """Daily training load per athlete over a continuous calendar, zero-load rest days included.

    ``loads`` comes from ``session_loads`` (same ``tz``); ``by`` names its athlete columns.
    The calendar runs from the athlete's first day with a session (or a row in one of the
    ``also`` frames) to the day of ``until`` (epoch ms), or to the last such day. ``load``
    is null before the athlete's first training day, so an EWMA is seeded with that day
    (Williams 2017). ``aggregations`` are extra per-day aggregations over the day's
    sessions; ``also`` are extra frames of one row per athlete and ``day`` whose other
    columns are placed on their days (null elsewhere). Rows are sorted by athlete and day.

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
    training = pl.col("training")
    ids, frames = _dense_ids([loads, *also], keys)
    if until is not None:
        last_day = pl.select(local_day(pl.lit(until, dtype=pl.Int64), tz)).item()
    else:
        last_day = max((d for f in frames if (d := f["day"].max()) is not None), default=dt.date(1970, 1, 1))
    calendar = Calendar.spanning([f.select("_id", "day") for f in frames], ids.height, last_day)

    sessions = frames[0]
    # One integer key per athlete-day, sorted: the group-by then works on contiguous slices.
    # The sort is stable, so each day's sessions keep their order ("first" aggregations).
    rows = calendar.rows(sessions)
    sessions = sessions.with_columns(_row=pl.Series(rows)).filter(pl.col("_row") >= 0)
    if not sessions["_row"].is_sorted():
        sessions = sessions.sort("_row", maintain_order=True)
    per_day = sessions.with_columns(pl.col("_row").set_sorted()).group_by("_row", maintain_order=True).agg(
        pl.when(training).then(pl.col("load")).sum().alias("load"),
        training.sum().cast(pl.Int64).alias("n_sessions"),
        pl.when(training).then(pl.col("n_steps")).sum().cast(pl.Int64).alias("steps"),
        *aggregations,
    )
    first_training = pl.repeat(None, ids.height, dtype=pl.Date, eager=True)
    trained = sessions.filter(training).group_by("_id").agg(pl.col("day").min())
    first_training = first_training.scatter(trained["_id"], trained["day"])

    placed = calendar.scatter(per_day["_row"].to_numpy(), per_day.drop("_row"))
    for frame in frames[1:]:
        placed += calendar.place(frame)
    daily = calendar.frame().hstack(placed)
    started = pl.col("day") >= pl.col("first_training_day")
    names = ids.drop("_id").gather(daily["_id"])
    return (
        daily.with_columns(first_training_day=calendar.per_athlete(first_training))
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
