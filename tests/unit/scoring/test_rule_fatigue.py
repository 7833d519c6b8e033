"""fatigue: form breaking down (cadence down, impact up) or a session far longer than the athlete's longest."""

from typing import Any

import pytest

from scoring.rules import Fatigue
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = Fatigue()
USUAL = [feature(d, 1000, duration_s=1800.0) for d in (0, 2, 4)]


def last(**columns: Any) -> tuple[str | None, float | None, float | None]:
    columns.setdefault("duration_s", 1800.0)
    rows = [*USUAL, feature(6, 1000, **columns)]
    return verdict(days_of(features(rows), until=6)[6], RULE.rule_id)


@pytest.mark.parametrize(
    ("cadence", "impact", "expected"),
    [(-0.05, 0.10, "moderate"), (-0.049, 0.10, None), (-0.05, 0.099, None), (-0.2, None, None)],
)
def test_form_breakdown(cadence: float, impact: float | None, expected: str | None) -> None:
    label, value, _ = last(fatigue_cadence_change=cadence, fatigue_impact_change=impact)
    assert label == expected
    if expected:
        assert value == pytest.approx(impact)


@pytest.mark.parametrize(("duration", "expected"), [(2700.0, None), (2701.0, "moderate")])
def test_longer_than_usual(duration: float, expected: str | None) -> None:
    label, value, _ = last(duration_s=duration)
    assert label == expected
    assert value is None or value == pytest.approx(duration / 1800.0)


def test_both_are_high() -> None:
    label, value, threshold = last(duration_s=3600.0, fatigue_cadence_change=-0.06, fatigue_impact_change=0.12)
    assert (label, threshold) == ("high", RULE.duration_ratio)
    assert value == pytest.approx(2.0)


def test_the_reference_is_the_longest_of_four_weeks_not_the_median() -> None:
    # A weekly long run of 45 min among 20-min runs is routine: only going 1.5x past it counts.
    rows = [feature(d, 1000, duration_s=2700.0 if d % 7 == 0 else 1200.0) for d in range(0, 27, 2)]
    for minutes, expected in ((67.5, None), (67.6, "moderate")):
        label, value, _ = verdict(
            days_of(features([*rows, feature(28, 1000, duration_s=minutes * 60)]), until=28)[28], RULE.rule_id
        )
        assert label == expected, minutes
    assert value == pytest.approx(67.6 * 60 / 2700.0)


def test_usual_needs_three_previous_sessions() -> None:
    rows = [feature(0, 1000, duration_s=600.0), feature(2, 1000, duration_s=600.0), feature(4, 1000, duration_s=6000.0)]
    assert verdict(days_of(features(rows), until=4)[4], RULE.rule_id)[0] is None
