"""What an athlete's charts show, prepared from the stored session features and pain reports.

Loads come from the scoring core (``scoring.session_loads``, ``daily_loads`` and the EWMAs
of ``scoring.ewma``), so the chart shows the numbers the rules judged. Nothing here reads
raw steps: a year of history is a few hundred feature rows. The pure functions take frames
and return frames; ``athlete_data`` puts them together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from scoring import acute_load, acwr, chronic_load, daily_loads, local_day, session_loads
from scoring.rules.asymmetry import symmetry_index
from stridewatch.teams import TeamConfig

WINDOW_DAYS = 56
NOT_DECLARED = "not declared"

DAILY_SCHEMA = pl.Schema(
    {"day": pl.Date, "load": pl.Float64, "acute": pl.Float64, "chronic": pl.Float64, "acwr": pl.Float64}
)
WEEKLY_SCHEMA = pl.Schema({"week": pl.Date, "load": pl.Float64, "change": pl.Float64, "complete": pl.Boolean})
SESSION_SCHEMA = pl.Schema(
    {
        "device": pl.String, "session_id": pl.String, "start": pl.Int64, "day": pl.Date, "activity": pl.String,
        "surface": pl.String, "shoe_id": pl.String, "training": pl.Boolean, "load": pl.Float64,
        "n_steps": pl.Int64, "distance_km": pl.Float64, "cadence": pl.Float64, "impact": pl.Float64,
        "symmetry": pl.Float64, "descent_share": pl.Float64,
    }
)  # fmt: skip
SURFACE_SCHEMA = pl.Schema({"surface": pl.String, "load": pl.Float64, "share": pl.Float64})
SHOE_SCHEMA = pl.Schema(
    {"shoe_id": pl.String, "km": pl.Float64, "first_day": pl.Date, "last_day": pl.Date, "age_days": pl.Int64}
)
PAIN_SCHEMA = pl.Schema(
    {"ts": pl.Int64, "day": pl.Date, "site": pl.String, "side": pl.String, "score": pl.Int64, "kind": pl.String}
)


@dataclass(frozen=True, kw_only=True)
class AthleteData:
    """One athlete's chart data as of ``at`` (epoch ms) over the ``days`` days up to its local day."""

    team: str
    athlete: str
    at: int
    first_day: dt.date
    last_day: dt.date
    daily: pl.DataFrame  # DAILY_SCHEMA, every day of the window
    weekly: pl.DataFrame  # WEEKLY_SCHEMA, the weeks (Monday first) touching the window
    sessions: pl.DataFrame  # SESSION_SCHEMA, the window's sessions in time order
    surfaces: pl.DataFrame  # SURFACE_SCHEMA, the window's training load by surface
    shoes: pl.DataFrame  # SHOE_SCHEMA, every shoe's whole history up to ``at``
    pain: pl.DataFrame  # PAIN_SCHEMA, the window's pain reports


def window_days(at: int, tz: str, days: int = WINDOW_DAYS) -> tuple[dt.date, dt.date]:
    """The first and last local day of the ``days``-day window ending on the day of ``at``."""
    last: dt.date = pl.select(local_day(pl.lit(at, dtype=pl.Int64), tz)).item()
    return last - dt.timedelta(days=days - 1), last


def daily_frame(loads: pl.DataFrame, *, at: int, tz: str) -> pl.DataFrame:
    """Every local day from the first session to the day of ``at``: load, acute and chronic
    EWMA loads and their ratio, exactly as the rules compute them (EWMAs seeded with the
    first training day; no ratio while the chronic load is 0)."""
    if loads.is_empty():
        return pl.DataFrame(schema=DAILY_SCHEMA)
    load = pl.col("load")
    daily = daily_loads(loads, tz=tz, until=at)
    return daily.select("day", "load", acute=acute_load(load), chronic=chronic_load(load), acwr=acwr(load))


def weekly_frame(daily: pl.DataFrame) -> pl.DataFrame:
    """Load per calendar week (Monday to Sunday) and its change on the week before (1.2 = +20%);
    ``complete`` is False for the week still going on (the last day is not its Sunday)."""
    weeks = (
        daily.group_by(week=pl.col("day").dt.truncate("1w")).agg(load=pl.col("load").fill_null(0.0).sum()).sort("week")
    )
    before = pl.col("load").shift(1)
    last_day = daily["day"].max()
    return weeks.select(
        "week",
        "load",
        change=pl.when(before > 0).then(pl.col("load") / before),
        complete=pl.col("week") + dt.timedelta(days=6) <= pl.lit(last_day, dtype=pl.Date),
    ).cast(WEEKLY_SCHEMA)


def session_frame(loads: pl.DataFrame) -> pl.DataFrame:
    """One row per session: load, steps, distance, median cadence and impact, left/right
    symmetry index (%, as the asymmetry rule computes it) and the share of steps on a descent."""
    return loads.select(
        "device",
        "session_id",
        "start",
        "day",
        "activity",
        "surface",
        "shoe_id",
        "training",
        "load",
        "n_steps",
        distance_km=pl.col("distance_m") / 1000.0,
        cadence="cadence_median",
        impact="impact_median",
        symmetry=symmetry_index(pl.col("impact_mean_L"), pl.col("impact_mean_R")),
        descent_share=pl.when(pl.col("n_steps") > 0).then(pl.col("descent_steps") / pl.col("n_steps")),
    ).cast(SESSION_SCHEMA)


def surface_frame(sessions: pl.DataFrame) -> pl.DataFrame:
    """Training load by surface, largest first; sessions without a declared surface together."""
    training = sessions.filter(pl.col("training"))
    total = training["load"].sum()
    if not total:
        return pl.DataFrame(schema=SURFACE_SCHEMA)
    return (
        training.group_by(surface=pl.col("surface").fill_null(NOT_DECLARED))
        .agg(load=pl.col("load").sum())
        .with_columns(share=pl.col("load") / total)
        .sort("load", "surface", descending=[True, False])
    )


def shoe_frame(loads: pl.DataFrame, *, step_length_m: float, today: dt.date) -> pl.DataFrame:
    """Distance per shoe, counted as the shoe_wear rule counts it: the session's distance when
    the device sent one, else steps x ``step_length_m`` for runs; and days since first worn."""
    steps_m = pl.when(pl.col("activity") == "run").then(pl.col("n_steps") * step_length_m)
    metres = pl.coalesce("distance_m", steps_m, pl.lit(0.0))
    shoes = (
        loads.filter(pl.col("shoe_id").is_not_null())
        .group_by("shoe_id")
        .agg(km=metres.sum() / 1000.0, first_day=pl.col("day").min(), last_day=pl.col("day").max())
    )
    age = (pl.lit(today) - pl.col("first_day")).dt.total_days()
    return shoes.with_columns(age_days=age).sort("last_day", "shoe_id").cast(SHOE_SCHEMA)


def pain_frame(pain: pl.DataFrame, *, tz: str) -> pl.DataFrame:
    """Pain reports with their local day, in time order."""
    return pain.select(
        "ts", day=local_day(pl.col("ts"), tz), site="site", side="side", score="score", kind="kind"
    ).sort("ts")


def athlete_data(
    features: pl.DataFrame, pain_reports: pl.DataFrame, config: TeamConfig, athlete: str, *, at: int,
    days: int = WINDOW_DAYS,
) -> AthleteData:  # fmt: skip
    """Everything the athlete's charts show, as of ``at``, over the ``days`` days up to it, from
    their stored session features and pain reports (`Store.session_features`, `Store.pain`)."""
    team, tz = config.team_id, config.timezone.key
    first, last = window_days(at, tz, days)
    loads = session_loads(features, tz=tz).filter(pl.col("end") <= at)
    sessions = session_frame(loads.filter(pl.col("day") >= first))
    daily = daily_frame(loads, at=at, tz=tz)
    pain = pain_frame(pain_reports.filter(pl.col("ts") <= at), tz=tz)
    step_length = config.thresholds.rule("shoe_wear").step_length_m  # type: ignore[attr-defined]
    return AthleteData(
        team=team,
        athlete=athlete,
        at=at,
        first_day=first,
        last_day=last,
        daily=daily.filter(pl.col("day") >= first),
        weekly=weekly_frame(daily).filter(pl.col("week") >= first - dt.timedelta(days=first.weekday())),
        sessions=sessions,
        surfaces=surface_frame(sessions),
        shoes=shoe_frame(loads, step_length_m=step_length, today=last),
        pain=pain.filter(pl.col("day") >= first),
    )
