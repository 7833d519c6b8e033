"""weekly_ramp: the last 7 days' load / the 7 days before (when those had >= 2 sessions)."""

from collections.abc import Sequence

import pytest

from scoring.rules import WeeklyRamp
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = WeeklyRamp()


def ramp(
    last_week: list[float], previous_week: Sequence[float] = (1000.0, 1000.0), *, history_days: int = 28
) -> tuple[str | None, float | None, float | None]:
    """The verdict at the end of a history of ``history_days``: two lead-in weeks of 1000 a
    session, then ``previous_week`` and ``last_week`` (sessions every other day)."""
    today = history_days - 1
    rows = [feature(d, 1000.0) for d in range(0, today - 14, 2)]
    rows += [feature(today - 13 + 2 * i, x) for i, x in enumerate(previous_week)]
    rows += [feature(today - 6 + 2 * i, x) for i, x in enumerate(last_week)]
    return verdict(days_of(features(rows), until=today)[today], RULE.rule_id)


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
