"""Scoring athletes as of an event time: one athlete, or a whole team in one polars pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from scoring.level import BAND_FLOOR
from scoring.load import athlete_measures
from scoring.reason import Reason
from scoring.rules._rule import severity_column
from scoring.schemas import ATHLETE_KEYS, SESSION_FEATURES_SCHEMA, WELLNESS_SCHEMA
from scoring.severity import Severity
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from scoring.timeline import keyed_timeline, threshold_column, value_column, with_athlete_keys

REASON_DTYPE = pl.Struct(
    {
        "rule": pl.String,
        "severity": pl.String,
        "value": pl.Float64,
        "threshold": pl.Float64,
        "message": pl.String,
        "advice": pl.String,
    }
)


@dataclass(frozen=True, kw_only=True)
class History:
    """Everything scoring needs about one athlete: stored session features and pain reports."""

    team: str
    athlete: str
    sessions: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SESSION_FEATURES_SCHEMA))
    wellness: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=WELLNESS_SCHEMA))


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """An athlete's risk at ``ts``: the contract's alert payload minus state and alert_id."""

    team: str
    athlete: str
    ts: int
    level: Severity
    score: int
    reasons: tuple[Reason, ...] = ()

    def to_alert_dict(self) -> dict[str, Any]:
        """The contract's alert fields: team, athlete, ts, level, score, reasons."""
        return {
            "team": self.team,
            "athlete": self.athlete,
            "ts": self.ts,
            "level": self.level.label,
            "score": self.score,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Assessment:
        """From a row of ``score_team``'s frame."""
        reasons = tuple(
            Reason(
                rule=r["rule"],
                severity=Severity[r["severity"].upper()],
                value=r["value"],
                threshold=r["threshold"],
                message=r["message"],
                advice=r["advice"],
            )
            for r in row["reasons"]
        )
        return cls(
            team=row["team"],
            athlete=row["athlete"],
            ts=row["ts"],
            level=Severity[row["level"].upper()],
            score=row["score"],
            reasons=reasons,
        )


def _reasons(today: pl.DataFrame, thresholds: Thresholds, measures: pl.DataFrame) -> pl.DataFrame:
    """The active reasons of each athlete, worst first, as a list of contract structs; ``measures``:
    each athlete's load measure (``load.athlete_measures``)."""
    rules = thresholds.rules()
    active = pl.concat(
        [
            today.filter(pl.col(severity_column(rule.rule_id)) > 0).select(
                *ATHLETE_KEYS,
                order=pl.lit(order),
                rule=pl.lit(rule.rule_id),
                rank=pl.col(severity_column(rule.rule_id)).cast(pl.Int8),
                value=pl.col(value_column(rule.rule_id)).cast(pl.Float64),
                threshold=pl.col(threshold_column(rule.rule_id)).cast(pl.Float64),
            )
            for order, rule in enumerate(rules)
        ]
    )
    # Messages are Python format strings: rendered once per active reason, not per athlete-day,
    # and only the message in Python (``Rule.reason``'s other fields are per rule or per rank).
    by_id = {rule.rule_id: rule for rule in rules}
    measured = active.join(measures, on=ATHLETE_KEYS, how="left", maintain_order="left").select(
        "rule", "rank", "value", "threshold", "measure"
    )
    messages = [
        by_id[rule].said(value, threshold, Severity(rank), measure)
        for rule, rank, value, threshold, measure in measured.iter_rows()
    ]
    active = active.with_columns(
        severity=pl.col("rank").replace_strict({int(s): s.label for s in Severity}, return_dtype=pl.String),
        message=pl.Series(messages, dtype=pl.String),
        advice=pl.col("rule").replace_strict({rule.rule_id: rule.advice for rule in rules}, return_dtype=pl.String),
    )
    fields = list(REASON_DTYPE.to_schema())
    return (
        active.sort(*ATHLETE_KEYS, "rank", "order", descending=[False, False, True, False])
        .group_by(ATHLETE_KEYS, maintain_order=True)
        .agg(reasons=pl.struct(fields))
    )


def score_team(
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    at: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    tz: str = "UTC",
) -> pl.DataFrame:
    """Every athlete of the frames scored as of ``at`` (epoch ms), in one polars pass.

    Returns one row per athlete: team, athlete, ts (= ``at``), level (label), score, and
    reasons (list of rule, severity, value, threshold, message, advice), as in the
    contract's alert payload. See ``timeline`` for the inputs.
    """
    days, keys = keyed_timeline(sessions, wellness, at=at, thresholds=thresholds, tz=tz, only_day_of_at=True)
    today = with_athlete_keys(days, keys)
    reasons = _reasons(today, thresholds, athlete_measures(sessions, thresholds.load))
    labels = {int(s): s.label for s in Severity}
    return (
        today.join(reasons, on=ATHLETE_KEYS, how="left")
        .select(
            *ATHLETE_KEYS,
            ts=pl.lit(at, dtype=pl.Int64),
            level=pl.col("level").replace_strict(labels, return_dtype=pl.String),
            score=pl.col("score"),
            reasons=pl.col("reasons").fill_null(pl.lit([], dtype=pl.List(REASON_DTYPE))),
        )
        .sort(ATHLETE_KEYS)
    )


def score_athlete(
    history: History, *, at: int, thresholds: Thresholds = DEFAULT_THRESHOLDS, tz: str = "UTC"
) -> Assessment:
    """One athlete's ``Assessment`` as of ``at``; "low" with no reasons when there is no history."""
    mine = (pl.col("team") == history.team) & (pl.col("athlete") == history.athlete)
    scored = score_team(
        history.sessions.filter(mine), history.wellness.filter(mine), at=at, thresholds=thresholds, tz=tz
    )
    if scored.is_empty():
        low = Severity.LOW
        return Assessment(team=history.team, athlete=history.athlete, ts=at, level=low, score=BAND_FLOOR[low])
    return Assessment.from_row(scored.row(0, named=True))
