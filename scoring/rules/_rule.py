"""Machinery shared by every rule: the ``Rule`` base, session-level and acute-load rules.

A rule is a frozen dataclass of thresholds (RULES.md defaults, overridable per team) that
builds polars expressions; the timeline (``scoring.timeline``) evaluates them for every
athlete and day at once. A rule may contribute, in this order:

1. ``session_inputs()``: columns on the session frame (one row per session, sorted by
   athlete and start; the features plus ``start``, ``day``, ``duration``, ``training``,
   ``baseline_g``, ``load``, ``athlete_key``): what each session's history says, read
   from earlier sessions only, so it is final once the session is stored.
2. ``day_inputs()``: aggregations of one athlete-day's sessions (``load.DayAggregate``).
3. ``wellness_inputs(wellness)``: a frame keyed by athlete_key and day from pain reports.
4. ``prepare()``: stages of columns on the daily frame (one row per athlete and local
   day; see ``scoring.timeline`` for its columns), each stage reading the ones before.
   Polars does not share a subexpression used in several ``when`` branches, so anything
   non-trivial that a verdict reads more than once is computed here, once.
5. ``judge()``: a ``Judgement`` on the daily frame, which may read earlier rules' results.

Column names a rule creates are prefixed with its id (``rule.column("ratio")``).

Every rule has ``enabled`` (a team may switch a rule off, or on when its default is off)
and states the evidence behind its default grade in ``evidence`` (RULES.md, "Evidence
grading"), which the README and the dashboard show to coaches.

The incremental athlete state (``scoring.state``) evaluates the same rules one session and
one day at a time, in plain Python: each rule's ``session_values``, ``judge_session_row``,
``prepare_row``, ``judge_row`` and ``pain_days`` are its expressions' counterparts, kept
beside them, and a property test holds the two forms equal.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import ClassVar, NamedTuple

import numpy as np
import polars as pl

from scoring.errors import ConfigError
from scoring.ewma import CHRONIC_DAYS
from scoring.load import MEASURES, Calendar, DayAggregate, single_rows
from scoring.reason import Reason
from scoring.rows import Days, Kept, Pain, Row
from scoring.severity import QUIET, Bands, Severity
from scoring.windows import at_row, rolling_sum

# One integer per (team, athlete): windows over it are cheaper than over two strings.
ATHLETE = "athlete_key"
Verdict = tuple[int, float | None, float | None]  # severity rank, value, threshold


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` as polars divides floats: null with a null, inf or NaN by 0."""
    if numerator is None or denominator is None:
        return None
    if denominator == 0:
        return math.nan if numerator == 0 or math.isnan(numerator) else math.copysign(math.inf, numerator)
    return numerator / denominator


def judge_row(value: float | None, bands: Bands, *, gate: bool = True) -> Verdict:
    """`judge` for one row."""
    rank = bands.rank_of(value) if gate else QUIET
    return rank, value, bands.threshold_of(rank)


def severity_column(rule_id: str) -> str:
    """The daily frame column holding a rule's severity rank."""
    return f"{rule_id}__severity"


class Judgement(NamedTuple):
    """A rule's verdict as expressions: Int8 severity rank (0 quiet), measured value, threshold."""

    severity: pl.Expr
    value: pl.Expr
    threshold: pl.Expr


def judge(value: pl.Expr, bands: Bands, *, gate: pl.Expr | None = None) -> Judgement:
    """The usual verdict: ``value`` against ``bands``, quiet where ``gate`` does not hold."""
    rank = bands.rank(value)
    if gate is not None:
        rank = pl.when(gate).then(rank).otherwise(QUIET)
    rank = rank.cast(pl.Int8)
    return Judgement(rank, value.cast(pl.Float64), bands.threshold(rank))


def quiet_unless(condition: pl.Expr, severity: Severity) -> pl.Expr:
    """Int8 rank: ``severity`` where ``condition`` holds, else quiet."""
    return pl.when(condition).then(int(severity)).otherwise(QUIET).cast(pl.Int8)


@dataclass(frozen=True, kw_only=True)
class Rule(ABC):
    """Base of the rule threshold dataclasses; see the module docstring for the protocol."""

    rule_id: ClassVar[str]
    message_template: ClassVar[str]  # str.format fields: value, threshold, rule (self)
    advice: ClassVar[str]
    evidence: ClassVar[str]  # one plain sentence: how strong the grounds are, and so the default grade
    reads_load: ClassVar[bool] = False  # its value is made of training load: its reason names the measure

    enabled: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ConfigError(
                    f"{self.rule_id}.{f.name} must be >= 0, got {value!r}",
                    rule=self.rule_id,
                    field=f.name,
                )

    def column(self, name: str) -> str:
        """A column this rule owns."""
        return f"{self.rule_id}__{name}"

    def reads(self) -> tuple[str, ...]:
        """The rules whose verdicts this one reads: they must be enabled and evaluated before it."""
        return ()

    # -- one row at a time (scoring.state) -------------------------------------------
    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        """``session_inputs`` of session ``j`` (the sessions before it judged already)."""
        return {}

    def pain_days(self, pain: Sequence[Pain]) -> dict[int, tuple[int, float]] | None:
        """``wellness_inputs`` as day -> (severity, value); None: the rule reads no pain."""
        return None

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        """``prepare`` on day ``i``: the rule's columns into ``row``."""
        return

    @abstractmethod
    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        """``judge`` on day ``i``."""

    def session_inputs(self) -> list[pl.Expr]:
        return []

    def day_inputs(self) -> list[DayAggregate]:
        return []

    def wellness_inputs(self, wellness: pl.DataFrame) -> pl.DataFrame | None:
        return None

    def prepare(self) -> list[list[pl.Expr]]:
        return []

    def clear_at(self) -> float | None:
        """The value under which a latched (acute-load) reason clears; None: not latched."""
        return None

    @abstractmethod
    def judge(self) -> Judgement: ...

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        """One plain sentence with the number that triggered the rule."""
        return self.message_template.format(value=value, threshold=threshold, rule=self)

    def reason(self, severity: Severity, value: float, threshold: float, measure: str | None = None) -> Reason:
        """The Reason factory every rule shares; ``measure``: the athlete's load measure (``load.MEASURES``)."""
        return Reason(
            rule=self.rule_id,
            severity=severity,
            value=value,
            threshold=threshold,
            message=self.said(value, threshold, severity, measure),
            advice=self.advice,
        )

    def said(self, value: float, threshold: float, severity: Severity, measure: str | None) -> str:
        """`message`, and for a rule on load the measure it was counted in, so that a coach
        reading "1.9x" knows whether sessions' ratings or steps went up."""
        message = self.message(value, threshold, severity)
        return f"{message} (load in {MEASURES[measure]})" if self.reads_load and measure in MEASURES else message


@dataclass(frozen=True, kw_only=True)
class AcuteLoadRule(Rule):
    """A load-ratio rule with hysteresis: once raised it holds its worst severity until the
    ratio falls under ``clear_below`` (default: the moderate threshold), so a ratio that
    wobbles around a threshold does not flap (RULES.md, Overall level)."""

    clear_below: float | None = None
    held_template: ClassVar[str]  # the value in words, for a reason held under its threshold
    value_format: ClassVar[str] = "{:.1f}x"

    @abstractmethod
    def bands(self) -> Bands: ...

    def __post_init__(self) -> None:
        super().__post_init__()
        thresholds = [float(t) for _, t in self.bands().levels if not isinstance(t, pl.Expr)]
        if thresholds != sorted(thresholds):
            raise ConfigError(f"{self.rule_id}: thresholds must ascend, got {thresholds}", rule=self.rule_id)
        if self.clear_below is not None and self.clear_below > thresholds[0]:
            raise ConfigError(
                f"{self.rule_id}.clear_below must be <= {thresholds[0]}, got {self.clear_below}",
                rule=self.rule_id,
                field="clear_below",
            )

    def clear_at(self) -> float:
        return self.bands().first() if self.clear_below is None else self.clear_below

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        """As `Rule.message`; under its threshold the reason is held by hysteresis, and says so."""
        if value >= threshold:
            return super().message(value, threshold, severity)
        show = self.value_format.format
        return (
            f"{self.held_template.format(value=value, rule=self)}: it went over {show(threshold)} in this "
            f"stretch, and the warning stays until it is back under {show(self.clear_at())}"
        )


@dataclass(frozen=True, kw_only=True)
class LoadRatioRule(AcuteLoadRule):
    """A ratio of recent load to the athlete's usual load (acwr_spike, weekly_ramp), graded by its evidence.

    RULES.md, Evidence grading: in 5,205 runners neither the acute:chronic ratio nor the
    week-to-week change of distance was associated with injury (Frandsen et al. 2025, Br J
    Sports Med 59:1203), and the ACWR tells injured from uninjured about as well as the
    acute load alone (Impellizzeri et al. 2021, Sports Med: c-statistic 0.574 against
    0.544; 0.5 is chance). So by default these rules are moderate at most (``high`` unset:
    a team restores the old grading by setting it), and judge only athletes for whom a
    weekly ratio means something: ``min_history_days`` of history, and on average at least
    ``min_days_per_week`` training days a week over the last ``CHRONIC_DAYS``. For someone
    who runs once or twice a week every run is a 7-day spike against the 28-day mean (a
    coupled ratio correlates with its own acute load: Lolli et al. 2019, Br J Sports Med
    53:921). Only weeks of at least ``min_week_load`` impact-weighted steps count
    (RULES.md, Floors).
    """

    reads_load = True

    moderate: float
    high: float | None = None
    min_week_load: float = 2000.0
    min_history_days: int = 28
    min_days_per_week: float = 3.0

    def bands(self) -> Bands:
        high = () if self.high is None else ((Severity.HIGH, self.high),)
        return Bands(((Severity.MODERATE, self.moderate), *high))

    def regular_training(self) -> pl.Expr:
        """Whether today's ratio is judged: enough history, training often enough, a big enough week."""
        training_days = rolling_sum(pl.col("n_sessions") > 0, CHRONIC_DAYS)
        return (
            (pl.col("history_days") >= self.min_history_days)
            & (training_days >= self.min_days_per_week * CHRONIC_DAYS / 7)
            & (pl.col("load_7") >= self.min_week_load)
        )

    def regular_training_row(self, days: Days, i: int, row: Row) -> bool:
        """`regular_training` on day ``i``."""
        history = row["history_days"]
        training_days = sum(days[j]["n_sessions"] > 0 for j in range(max(i - CHRONIC_DAYS + 1, 0), i + 1))
        return (
            history is not None
            and history >= self.min_history_days
            and training_days >= self.min_days_per_week * CHRONIC_DAYS / 7
            and row["load_7"] >= self.min_week_load
        )


@dataclass(frozen=True, kw_only=True)
class SessionRule(Rule):
    """A rule judged per session; the day takes its worst session (``worst_sessions``), and
    the verdict of the athlete's latest training day stands for ``hold_days`` days (its day
    included) or until the next training day replaces it."""

    hold_days: int = 7

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hold_days < 1:
            raise ConfigError(f"{self.rule_id}.hold_days must be >= 1", rule=self.rule_id, field="hold_days")

    @abstractmethod
    def judge_session(self) -> Judgement:
        """The verdict on one session's row, from that row alone (its own columns and its
        ``session_inputs``), so that it also judges a session in progress (``scoring.live``)."""

    def gate(self) -> pl.Expr | None:
        """A daily condition the session verdict also needs; None: always."""
        return None

    @abstractmethod
    def judge_session_row(self, session: Kept) -> Verdict:
        """``judge_session`` on one session's row."""

    def gate_row(self, row: Row) -> bool:
        """``gate`` on one day's row."""
        return True

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        last = row["last_training_row"]
        if last is None or i - last >= self.hold_days:
            return QUIET, None, None
        carried = days[last]
        severity = carried[self.column("d_sev")] or QUIET
        value, threshold = carried[self.column("d_value")], carried[self.column("d_threshold")]
        return (severity if self.gate_row(row) else QUIET), value, threshold

    def session_verdict(self) -> list[pl.Expr]:
        """The session judgement as columns; only training sessions are judged."""
        verdict = self.judge_session()
        training = pl.col("training")
        return [
            pl.when(training).then(verdict.severity).otherwise(QUIET).cast(pl.Int8).alias(self.column("s_sev")),
            pl.when(training).then(verdict.value).alias(self.column("s_value")),
            pl.when(training).then(verdict.threshold).alias(self.column("s_threshold")),
        ]

    def judge(self) -> Judgement:
        def carry(part: str) -> pl.Expr:
            return at_row(pl.col(self.column(f"d_{part}")), pl.col("last_training_row"), within=self.hold_days)

        severity = carry("sev").fill_null(QUIET)
        gate = self.gate()
        if gate is not None:
            severity = pl.when(gate).then(severity).otherwise(QUIET)
        return Judgement(severity.cast(pl.Int8), carry("value"), carry("threshold"))


def worst_sessions(rules: Sequence[SessionRule]) -> Callable[[pl.DataFrame, Calendar], list[pl.Series]]:
    """Each session rule's verdict on each athlete-day, its worst training session's, as
    calendar columns ``{rule}__d_sev``, ``__d_value``, ``__d_threshold`` (a ``daily_loads``
    ``per_session`` hook; null on days without training).

    Most days hold one training session, which is its own worst and goes to its day as is.
    Only the days with several are sorted, once per rule over all of them (worst last: by
    severity, then value, nulls lowest; ties keep the sessions' order), and each day's
    last row taken, which is far cheaper than sorting inside every group.
    """
    parts = ("sev", "value", "threshold")

    def columns(sessions: pl.DataFrame, calendar: Calendar) -> list[pl.Series]:
        verdicts = [rule.column(f"s_{part}") for rule in rules for part in parts]
        # Which sessions are their day's only training session, found on the training rows
        # and then taken from the sessions in one filter (not one filter, then another).
        rows = sessions.get_column("_row").to_numpy()
        training = sessions.get_column("training").fill_null(False).to_numpy()
        alone = np.zeros(len(rows), dtype=bool)
        alone[training] = single_rows(rows[training])
        renamed = {rule.column(f"s_{part}"): rule.column(f"d_{part}") for rule in rules for part in parts}
        single = sessions.select(verdicts).filter(pl.Series(alone)).rename(renamed)
        several = sessions.select("_row", *verdicts).filter(pl.Series(training & ~alone))
        worst = []
        for rule in rules:
            sev, value = rule.column("s_sev"), rule.column("s_value")
            ordered = several.select("_row", *(rule.column(f"s_{part}") for part in parts)).sort(
                "_row", sev, pl.col(value).fill_null(float("-inf")), maintain_order=True
            )
            last = ordered.filter((pl.col("_row") != pl.col("_row").shift(-1)).fill_null(True))
            worst.append(last.drop("_row"))
        several_rows = several.get_column("_row").unique(maintain_order=True).to_numpy() if several.height else rows[:0]
        worst_frame = pl.DataFrame([c for frame in worst for c in frame.iter_columns()]).rename(renamed)
        return calendar.scatter(rows[alone], single, (several_rows, worst_frame.select(single.columns)))

    return columns
