"""weekly_ramp: the last 7 days' load / the 7 days before (when those had >= 2 sessions)."""

from collections.abc import Sequence

import pytest

from scoring.rules import WeeklyRamp
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds, thresholds_from_mapping
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = WeeklyRamp()
# RULES.md's table before evidence grading: high above 1.30 (the thresholds test its bands).
OLD_GRADING = thresholds_from_mapping({RULE.rule_id: {"high": 1.30}})


def ramp(
    last_week: list[float],
    previous_week: Sequence[float] = (1000.0, 1000.0),
    *,
    history_days: int = 28,
    thresholds: Thresholds = OLD_GRADING,
) -> tuple[str | None, float | None, float | None]:
    """The verdict at the end of a history of ``history_days``: daily lead-in sessions of 500
    (so the athlete trains 3+ days a week), then ``previous_week`` and ``last_week``
    (sessions every other day)."""
    today = history_days - 1
    rows = [feature(d, 500.0) for d in range(today - 13)]
    rows += [feature(today - 13 + 2 * i, x) for i, x in enumerate(previous_week)]
    rows += [feature(today - 6 + 2 * i, x) for i, x in enumerate(last_week)]
    return verdict(days_of(features(rows), until=today, thresholds=thresholds)[today], RULE.rule_id)


@pytest.mark.parametrize(
    ("this_week", "expected"),
    [
        (2300.0, None),  # 1.15: at the threshold
        (2301.0, "moderate"),
        (2600.0, "moderate"),  # 1.30: not above the high threshold
        (2601.0, "high"),
    ],
)
def test_thresholds(this_week: float, expected: str | None) -> None:
    label, value, _ = ramp([this_week / 2, this_week / 2])
    assert value == pytest.approx(this_week / 2000.0)
    assert label == expected


def test_needs_two_sessions_the_week_before() -> None:
    assert ramp([1500.0, 1500.0], previous_week=[2000.0])[1] is None


def test_floor_on_this_week() -> None:
    label, value, _ = ramp([999.0, 1000.0], previous_week=[500.0, 500.0])
    assert value == pytest.approx(1999.0 / 1000.0)
    assert label is None


@pytest.mark.parametrize(
    ("history_days", "expected"), [(RULE.min_history_days - 1, None), (RULE.min_history_days, "high")]
)
def test_needs_the_impact_baseline_window_of_history(history_days: int, expected: str | None) -> None:
    label, value, _ = ramp([1500.0, 1500.0], history_days=history_days)
    assert value == pytest.approx(1.5)
    assert label == expected


def test_moderate_at_most_by_default() -> None:
    label, value, threshold = ramp([1500.0, 1500.0], thresholds=DEFAULT_THRESHOLDS)
    assert (label, value, threshold) == ("moderate", pytest.approx(1.5), RULE.moderate)


@pytest.mark.parametrize(("lead_in_days", "expected"), [(11, None), (12, "high")])
def test_only_for_athletes_training_3_days_a_week(lead_in_days: int, expected: str | None) -> None:
    # 4 sessions in the last two weeks, plus lead-in days: 3 a week over 28 days is 12 days.
    rows = [feature(d, 500.0) for d in range(lead_in_days - 4)]
    rows += [feature(d, x) for d, x in ((14, 1000.0), (16, 1000.0), (21, 1500.0), (23, 1500.0))]
    label, _, _ = verdict(days_of(features(rows), until=27, thresholds=OLD_GRADING)[27], RULE.rule_id)
    assert label == expected
