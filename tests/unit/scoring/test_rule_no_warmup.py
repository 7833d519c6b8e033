"""no_warmup: a hard start (warm-up ratio >= 0.9) for new or returning athletes."""

import pytest

from scoring.rules import NoWarmup
from tests.unit.scoring.builders import days_of, feature, features, severity

RULE = NoWarmup()


@pytest.mark.parametrize(
    ("ratio", "expected"), [(RULE.min_ratio - 0.001, None), (RULE.min_ratio, "moderate"), (1.05, "moderate")]
)
def test_a_new_athlete(ratio: float, expected: str | None) -> None:
    assert severity(days_of(features([feature(0, 1000, warmup_ratio=ratio)]), until=0)[0], RULE.rule_id) == expected


def test_an_established_athlete_is_not_judged() -> None:
    rows = [feature(d, 1000, warmup_ratio=0.7) for d in range(0, 44, 2)] + [feature(44, 1000, warmup_ratio=0.95)]
    assert severity(days_of(features(rows), until=44)[44], RULE.rule_id) is None


def test_an_athlete_back_from_a_break_is() -> None:
    rows = [feature(d, 3000, warmup_ratio=0.7) for d in range(0, 44, 2)] + [feature(60, 2000, warmup_ratio=0.95)]
    timeline = days_of(features(rows), until=60)
    assert severity(timeline[60], "return_from_break") == "moderate"
    assert severity(timeline[60], RULE.rule_id) == "moderate"


def test_a_session_too_short_to_tell() -> None:
    assert severity(days_of(features([feature(0, 1000)]), until=0)[0], RULE.rule_id) is None
