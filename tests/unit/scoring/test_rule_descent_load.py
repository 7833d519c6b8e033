"""descent_load: share of a session's steps on a descent; a session verdict holds a week."""

import pytest

from scoring.rules import DescentLoad
from tests.unit.scoring.builders import days_of, feature, features, severity, verdict

RULE = DescentLoad()


@pytest.mark.parametrize(
    ("descent_steps", "expected"),
    [(200, None), (201, "moderate"), (350, "moderate"), (351, "high")],
)
def test_thresholds(descent_steps: int, expected: str | None) -> None:
    label, value, _ = verdict(
        days_of(features([feature(0, 1000, descent_steps=descent_steps)]), until=0)[0], RULE.rule_id
    )
    assert value == pytest.approx(descent_steps / 1000)
    assert label == expected


def test_the_latest_session_stands_for_a_week_or_until_the_next() -> None:
    hilly = days_of(features([feature(0, 1000, descent_steps=300)]), until=10)
    held = [severity(hilly[d], RULE.rule_id) for d in range(9)]
    assert held == ["moderate"] * RULE.hold_days + [None] * (9 - RULE.hold_days)
    flat_next = days_of(features([feature(0, 1000, descent_steps=300), feature(3, 1000)]), until=5)
    assert severity(flat_next[3], RULE.rule_id) is None


def test_the_worst_session_of_a_day() -> None:
    rows = [feature(0, 1000, descent_steps=400), feature(0, 1000, descent_steps=0, hour=18.0)]
    label, value, _ = verdict(days_of(features(rows), until=0)[0], RULE.rule_id)
    assert label == "high"
    assert value == pytest.approx(0.4)
