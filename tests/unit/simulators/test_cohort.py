"""The validation cohort, and `validate`'s known truth on it (issue 12, item 4).

On 200 runners over 6 months whose pain follows the outcome model, the longest-session
rule's precision beats its random baseline and acwr_spike's does not; with the outcome
model switched off, the longest-session rule does not beat chance either, so the first
result comes from the model, not from how the rule or the baseline is built.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import polars as pl

from scoring import timeline
from scoring.validation import validate
from simulators.cohort import Cohort, cohort
from simulators.outcomes import OutcomeModel

END = date(2026, 6, 30)
ATHLETES, DAYS = 200, 182


@cache
def made(effect: bool) -> Cohort:
    model = OutcomeModel() if effect else OutcomeModel().without_effect()
    return cohort(ATHLETES, days=DAYS, end=END, seed=0, outcomes=model)


@cache
def measured(effect: bool) -> pl.DataFrame:
    runs = made(effect)
    wellness = runs.wellness()
    at = int(runs.features["end_ts"].max()) + 1  # type: ignore[arg-type]
    days = timeline(runs.features, wellness, at=at)
    rules = ["longest_session", "acwr_spike"]
    table = validate(days, runs.features, wellness, rule_ids=rules, rng=np.random.default_rng(0), draws=300)
    return table.filter(pl.col("severity") == "moderate")


def row(table: pl.DataFrame, rule: str) -> dict[str, object]:
    return table.filter(pl.col("rule") == rule).row(0, named=True)


def test_runners_train_3_to_5_days_a_week_and_take_occasional_long_runs() -> None:
    runs = made(True).features.with_columns(week=pl.from_epoch("start_ts", time_unit="ms").dt.truncate("1w"))
    per_week = runs.group_by("athlete", "week").len()["len"]
    assert per_week.median() in (3, 4, 5)
    usual = runs.group_by("athlete").agg(usual=pl.col("distance_m").median())
    ratio = runs.join(usual, on="athlete").select(pl.col("distance_m") / pl.col("usual"))["distance_m"]
    assert 0.02 < (ratio > 1.2).mean() < 0.08  # type: ignore[operator]


def test_the_longest_session_rule_beats_chance_and_acwr_spike_does_not() -> None:
    table = measured(True)
    longest, acwr = row(table, "longest_session"), row(table, "acwr_spike")
    assert longest["raises"] >= 200 and acwr["raises"] >= 200  # type: ignore[operator]
    assert longest["beats_chance"], longest
    assert not acwr["beats_chance"], acwr


def test_without_the_outcome_model_the_longest_session_rule_does_not_beat_chance() -> None:
    longest = row(measured(False), "longest_session")
    assert longest["raises"] == row(measured(True), "longest_session")["raises"]  # the same training
    assert not longest["beats_chance"], longest


def test_the_cohorts_messages_are_what_the_contract_accepts() -> None:
    from ingest.records import DeadLetterRow, to_record

    runs = cohort(3, days=40, end=END, seed=1)
    messages = runs.messages()
    assert len(messages) == 2 * runs.features.height + len(runs.reports)
    now = int(runs.features["end_ts"].max()) + 1  # type: ignore[arg-type]
    assert not any(
        isinstance(to_record(m.topic, m.payload, now_ms=now, max_future_ms=0), DeadLetterRow) for m in messages
    )
