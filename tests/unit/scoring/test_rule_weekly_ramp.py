"""weekly_ramp: the last 7 days' load / the 7 days before (when those had >= 2 sessions)."""

from collections.abc import Sequence

import pytest

from scoring.rules import WeeklyRamp
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = WeeklyRamp()


def ramp(
    last_week: list[float], previous_week: Sequence[float] = (1000.0, 1000.0)
) -> tuple[str | None, float | None, float | None]:
    rows = [feature(2 * i, x) for i, x in enumerate(previous_week)]
    rows += [feature(7 + 2 * i, x) for i, x in enumerate(last_week)]
    return verdict(days_of(features(rows), until=13)[13], RULE.rule_id)


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
