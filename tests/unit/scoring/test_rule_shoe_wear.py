"""shoe_wear: distance (distance_m, else 1 m a step for runs) or age of the shoe in use."""

import pytest

from scoring.rules import ShoeWear
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = ShoeWear()


def shoe(day: int, metres: float | None, *, steps: float = 1000, activity: str = "run") -> dict[str, object]:
    return feature(day, steps, shoe_id="asics-01", distance_m=metres, activity=activity)


def last(rows: list[dict[str, object]], day: int) -> tuple[str | None, float | None, float | None]:
    return verdict(days_of(features(rows), until=day)[day], RULE.rule_id)


@pytest.mark.parametrize(
    ("km", "expected", "threshold"),
    [(600.0, None, None), (600.5, "moderate", 600.0), (800.0, "moderate", 600.0), (800.5, "high", 800.0)],
)
def test_distance(km: float, expected: str | None, threshold: float | None) -> None:
    rows = [shoe(0, km * 1000 / 2), shoe(1, km * 1000 / 2)]
    label, value, got = last(rows, 1)
    assert label == expected
    if expected:
        assert value == pytest.approx(km)
        assert got == threshold


def test_distance_from_steps_counts_runs_only() -> None:
    runs = [shoe(d, None, steps=10_000) for d in range(61)]  # 61 x 10 km from steps
    label, value, _ = last(runs, 60)
    assert label == "moderate"
    assert value == pytest.approx(610.0)
    jumps = [shoe(d, None, steps=10_000, activity="jump_rope") for d in range(61)]
    assert last(jumps, 60)[0] is None


@pytest.mark.parametrize(("age", "expected"), [(RULE.max_age_days, None), (RULE.max_age_days + 1, "moderate")])
def test_age(age: int, expected: str | None) -> None:
    label, value, _ = last([shoe(0, 5000.0), shoe(age, 5000.0)], age)
    assert label == expected
    if expected:
        assert value == age
