"""no_rest: training days in a row, judged against the athlete's history and habit."""

from collections.abc import Sequence

import pytest

from scoring.rules import NoRest
from tests.unit.scoring.builders import days_of, feature, features, severity, verdict

RULE = NoRest()


def streak_of(days_in_a_row: int, *, history: Sequence[int] = ()) -> tuple[str | None, float | None, float | None]:
    start = max(history, default=-2) + 2  # a rest day between the history and the streak
    rows = [feature(d, 1000) for d in history] + [feature(start + i, 1000) for i in range(days_in_a_row)]
    last = start + days_in_a_row - 1
    return verdict(days_of(features(rows), until=last)[last], RULE.rule_id)


@pytest.mark.parametrize(("days", "expected"), [(RULE.new_athlete_days - 1, None), (RULE.new_athlete_days, "moderate")])
def test_a_new_athlete_needs_rest_sooner(days: int, expected: str | None) -> None:
    label, value, _ = streak_of(days)
    assert (label, value) == (expected, days)


EVERY_OTHER_DAY = list(range(0, 50, 2))  # seven weeks of history, not used to daily training


@pytest.mark.parametrize(
    ("days", "expected"),
    [(RULE.moderate - 1, None), (RULE.moderate, "moderate"), (RULE.high - 1, "moderate"), (RULE.high, "high")],
)
def test_an_established_athlete(days: int, expected: str | None) -> None:
    assert streak_of(days, history=EVERY_OTHER_DAY)[0] == expected


def test_an_athlete_used_to_daily_training_is_left_to_monotony() -> None:
    rows = features([feature(d, 1000) for d in range(60)])
    timeline = days_of(rows, until=59)
    assert timeline[59]["streak"] == 60
    assert severity(timeline[59], RULE.rule_id) is None
    assert severity(timeline[12], RULE.rule_id) == "high"  # before the habit was established


@pytest.mark.parametrize(
    ("daily", "expected"),
    [(RULE.min_daily_load - 1, None), (RULE.min_daily_load, "high"), (RULE.min_daily_load + 1, "high")],
)
def test_days_under_the_load_floor_are_not_training_days(daily: float, expected: str | None) -> None:
    # "I jump 500 times every day": small daily sessions are below the floor from the first day
    rows = features([feature(d, daily) for d in range(RULE.high)])
    last = days_of(rows, until=RULE.high - 1)[RULE.high - 1]
    assert severity(last, RULE.rule_id) == expected
