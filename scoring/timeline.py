"""The daily timeline: every athlete, every local day, every rule, in one vectorised pass.

``timeline`` turns session features and pain reports into one row per athlete and local
calendar day (rest days included) from the athlete's first record to the day of ``at``,
and evaluates every rule on all rows at once (per-athlete windows as whole-column
operations, ``scoring.windows``), so a whole team is scored without a Python loop per
athlete or per day. Only history with a time at or before ``at`` counts: a session once
it has ended, a pain report once it was sent.

Columns of the daily frame that rules read:

- ``athlete_key`` (one dense integer per team and athlete), ``day``
- ``last_training_row``: the row of the athlete's latest training day (``scoring.windows``)
- ``is_partial``: the day of ``at``, not over yet (see ``scoring.hysteresis``)
- ``history_days``: days since the first training day, counting it (null before)
- ``load`` (null before the first training day, 0 on rest days), ``n_sessions``, ``steps``
- ``load_7`` (last 7 days), ``acwr`` (EWMA), ``monotony``, ``strain`` (``scoring.ewma``)
- ``streak``: training days in a row ending today (0 on a rest day)
- ``pain_max``: the day's highest pain score, null without a report

and, per rule, ``{rule}__severity`` (Int8 rank, 0 quiet), ``{rule}__value`` and
``{rule}__threshold``, then ``level`` (Int8 rank) and ``score`` (``scoring.level``).
The returned frame has ``team``, ``athlete``, ``BASE_COLUMNS``, the rules' three columns
each, ``level`` and ``score``.
"""

from __future__ import annotations

import polars as pl

from scoring import ewma
from scoring.hysteresis import held_today, hold_today, latch
from scoring.keys import athlete_keys
from scoring.level import level_expr, score_expr
from scoring.load import daily_loads, local_day
from scoring.rules import AcuteLoadRule, Rule, SessionRule
from scoring.rules._rule import ATHLETE, severity_column, worst_sessions
from scoring.schemas import ATHLETE_KEYS
from scoring.sessions import is_judged, judge_sessions
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from scoring.windows import DAY_INDEX, ROW, day_index, full_window, last_row, rolling_sum, sorted_over, streak

_ACUTE, _CHRONIC, _MONOTONY = "_acute", "_chronic", "_monotony_ratio"

BASE_COLUMNS = (
    "day",
    "is_partial",
    "history_days",
    "load",
    "n_sessions",
    "steps",
    "load_7",
    "acwr",
    "monotony",
    "strain",
    "streak",
    "pain_max",
)


def value_column(rule_id: str) -> str:
    return f"{rule_id}__value"


def threshold_column(rule_id: str) -> str:
    return f"{rule_id}__threshold"


def timeline(
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    at: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    tz: str = "UTC",
) -> pl.DataFrame:
    """One row per athlete and local day up to the day of ``at`` (epoch ms), every rule judged.

    ``sessions`` is ``sessions.judge_sessions`` output, or ``features.session_features``
    output (``SESSION_FEATURES_SCHEMA``), judged here; ``wellness`` is one row per pain
    entry (``WELLNESS_SCHEMA``). Both may hold many athletes of one team (``thresholds`` is
    that team's config). ``tz`` is the team's time zone; judged sessions must use the same.
    """
    days, keys = keyed_timeline(sessions, wellness, at=at, thresholds=thresholds, tz=tz)
    return with_athlete_keys(days, keys)


def with_athlete_keys(days: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """``days`` (from ``keyed_timeline``) with ``team`` and ``athlete`` in place of ``athlete_key``.

    The keys are dense row numbers of ``keys``: a gather, not a join.
    """
    index = days.get_column(ATHLETE)
    return days.select(
        keys.get_column("team").gather(index),
        keys.get_column("athlete").gather(index),
        pl.exclude(*ATHLETE_KEYS, ATHLETE),
    )


def _session_columns(sessions: pl.DataFrame, rules: tuple[Rule, ...]) -> list[str]:
    """The judged-session columns the daily pass reads: the rest is never copied."""
    needed = {*ATHLETE_KEYS, "end", "day", "training", "load", "n_steps"}
    for rule in rules:
        for aggregate in rule.day_inputs():
            needed.update(aggregate.values.meta.root_names())
        if isinstance(rule, SessionRule):
            needed.update(rule.column(f"s_{part}") for part in ("sev", "value", "threshold"))
    return [name for name in sessions.columns if name in needed]


def keyed_timeline(
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    at: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    tz: str = "UTC",
    only_day_of_at: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``timeline`` keyed by ``athlete_key`` instead of team and athlete, and the keys.

    Returns the daily frame (``athlete_key`` first) and the key table (``athlete_key``,
    ``team``, ``athlete``; row ``i`` holds key ``i``). With ``only_day_of_at`` the frame
    holds only the rows of the day of ``at`` (``score_team``): the rules still run over
    every day, but the level and score, which read no other day, only on those rows.
    """
    rules = thresholds.rules()
    if not is_judged(sessions):
        sessions = judge_sessions(sessions, thresholds=thresholds, tz=tz)
    sessions = sessions.select(_session_columns(sessions, rules))
    ended = (sessions.get_column("end") <= at).fill_null(False)
    if not ended.all():  # filtering copies every column: only when some session is still going on
        sessions = sessions.filter(ended)
    wellness = wellness.filter(pl.col("ts") <= at).with_columns(day=local_day(pl.col("ts"), tz))
    keys, (session_keys, wellness_keys) = athlete_keys(sessions, wellness)
    sessions = sessions.with_columns(session_keys).drop(ATHLETE_KEYS)
    wellness = wellness.with_columns(wellness_keys).drop(ATHLETE_KEYS).drop_nulls(ATHLETE)
    if session_keys.null_count():  # a null team or athlete: no athlete to score
        sessions = sessions.drop_nulls(ATHLETE)

    pain = wellness.group_by(ATHLETE, "day").agg(pain_max=pl.col("score").max())
    session_rules = [rule for rule in rules if isinstance(rule, SessionRule)]
    per_day = [pain, *(reports for rule in rules if (reports := rule.wellness_inputs(wellness)) is not None)]
    aggregations = [e for rule in rules for e in rule.day_inputs()]
    daily = daily_loads(
        sessions,
        tz=tz,
        until=at,
        aggregations=aggregations,
        also=per_day,
        by=[ATHLETE],
        per_session=worst_sessions(session_rules),
    )

    trained = pl.col("n_sessions") > 0
    frame = (
        daily.lazy()  # sorted by athlete and day, as daily_loads returns it
        .with_row_index(ROW)
        # Signed (windows reach before a row) and 32 bits: row arithmetic makes many whole
        # columns, each half the memory of an Int64 one.
        .with_columns(pl.col(ROW).cast(pl.Int32))
        .with_columns(day_index(pl.col(ATHLETE)).alias(DAY_INDEX))
        # Rolling and EWMA results that an expression reads twice are made columns first:
        # polars does not share them between the branches of a when or a fill_nan.
        .with_columns(
            # The EWMA restarts at each athlete's first training day: a true per-group window.
            sorted_over(ewma.acute_load(pl.col("load")), ATHLETE).alias(_ACUTE),
            sorted_over(ewma.chronic_load(pl.col("load")), ATHLETE).alias(_CHRONIC),
            ewma.monotony_ratio(pl.col("load")).alias(_MONOTONY),
        )
        .with_columns(
            is_partial=pl.col("day") == pl.select(local_day(pl.lit(at, dtype=pl.Int64), tz)).item(),
            history_days=(pl.col("day") - pl.col("first_training_day")).dt.total_days() + 1,
            load_7=rolling_sum(pl.col("load"), 7),
            acwr=ewma.acwr_from(pl.col(_ACUTE), pl.col(_CHRONIC)),
            monotony=full_window(ewma.capped_monotony(pl.col(_MONOTONY)), 7),
            streak=streak(trained).cast(pl.Int64),
            last_training_row=last_row(trained),
        )
        # Foster's strain (ewma.strain) from the week's load and monotony computed above.
        .with_columns(strain=pl.col("load_7") * pl.col("monotony"))
    )
    held_verdicts: list[pl.Expr] = []  # a rule's value and threshold, held today after every rule
    for rule in rules:
        severity, value, threshold = (
            severity_column(rule.rule_id),
            value_column(rule.rule_id),
            threshold_column(rule.rule_id),
        )
        for stage in rule.prepare():
            frame = frame.with_columns(stage)
        verdict = rule.judge()
        held = rule.column("held")
        judged = [verdict.severity.alias(severity), verdict.value.alias(value)]
        if isinstance(rule, AcuteLoadRule):
            frame = frame.with_columns(judged)
            frame = frame.with_columns(latch(severity, value, clear_at=rule.clear_at(), bands=rule.bands()))
            # The threshold follows the latched (and held) severity.
            held_verdicts += [*hold_today(held, value), rule.bands().threshold(pl.col(severity)).alias(threshold)]
        else:
            frame = frame.with_columns(*judged, verdict.threshold.alias(threshold))
            held_verdicts += hold_today(held, value, threshold)
        # Later rules read the severity as held today; values and thresholds no rule reads.
        frame = frame.with_columns(held_today(severity).alias(held)).with_columns(hold_today(held, severity))

    severities = [severity_column(rule.rule_id) for rule in rules]
    verdicts = [name(rule.rule_id) for rule in rules for name in (severity_column, value_column, threshold_column)]
    # Values and thresholds are held after every rule: for score_team on the day of ``at``
    # and the day before (the one a hold reads) only, instead of allocating two new float
    # columns per rule over every athlete-day.
    if only_day_of_at:
        frame = frame.filter(pl.col("is_partial") | pl.col("is_partial").shift(-1).fill_null(False))
    frame = frame.with_columns(held_verdicts)
    if only_day_of_at:
        frame = frame.filter(pl.col("is_partial"))
    scored = (
        frame.with_columns(level=level_expr(severities))
        .with_columns(score=score_expr(pl.col("level"), severities))
        .select(ATHLETE, *BASE_COLUMNS, *verdicts, "level", "score")
        .collect()
    )
    return scored, keys
