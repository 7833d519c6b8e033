"""monotony: Foster's monotony > 2 with strain above the athlete's own 90th percentile."""

import numpy as np
import pytest

from scoring.ewma import MONOTONY_CAP
from scoring.rules import Monotony
from scoring.thresholds import thresholds_from_mapping
from tests.unit.scoring.builders import daily, days_of, verdict

RULE = Monotony()
BASE = [1000.0, 0.0] * 35  # ten weeks of every other day: monotony about 1.2
SAME_EVERY_DAY = BASE + [2000.0] * 7


def last_day(loads: list[float], **overrides: object) -> tuple[str | None, float | None, float | None]:
    thresholds = thresholds_from_mapping({RULE.rule_id: overrides}) if overrides else None
    day = len(loads) - 1
    return verdict(days_of(daily(loads), until=day, thresholds=thresholds)[day], RULE.rule_id)


def foster(week: list[float]) -> float:
    return min(float(np.mean(week) / np.std(week)) if np.std(week) else MONOTONY_CAP, MONOTONY_CAP)


def test_base_weeks_are_not_monotonous() -> None:
    label, value, _ = last_day(BASE)
    assert value == pytest.approx(foster(BASE[-7:]))
    assert value is not None
    assert value < RULE.moderate
    assert label is None


def test_a_monotonous_hard_week_with_a_jump_in_acwr_is_high() -> None:
    label, value, threshold = last_day(SAME_EVERY_DAY)
    assert (label, value, threshold) == ("high", MONOTONY_CAP, RULE.moderate)


def test_without_the_acwr_jump_it_is_moderate() -> None:
    assert last_day(SAME_EVERY_DAY, acwr_high=100.0)[0] == "moderate"


@pytest.mark.parametrize(("moderate", "expected"), [(MONOTONY_CAP, None), (MONOTONY_CAP - 1e-6, "moderate")])
def test_at_and_just_above_the_threshold(moderate: float, expected: str | None) -> None:
    assert last_day(SAME_EVERY_DAY, moderate=moderate, acwr_high=100.0)[0] == expected


def test_strain_no_higher_than_usual_is_quiet() -> None:
    assert last_day([500.0] * 100)[0] is None  # "500 jumps every day": monotonous, but usual


def test_needs_a_usual_strain_first() -> None:
    assert last_day([2000.0] * 20)[0] is None
