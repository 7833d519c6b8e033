"""acwr_spike: EWMA acute:chronic ratio, moderate at most, for athletes training regularly, weeks >= 2000."""

import pytest

from scoring.rules import AcwrSpike
from scoring.thresholds import thresholds_from_mapping
from tests.unit.scoring.builders import daily, days_of, verdict

RULE = AcwrSpike()


def ewma(loads: list[float], days: int) -> float:
    value = loads[0]
    for load in loads[1:]:
        value += 2 / (days + 1) * (load - value)
    return value


def last_day(loads: list[float], **overrides: float) -> tuple[str | None, float | None, float | None]:
    thresholds = thresholds_from_mapping({RULE.rule_id: overrides}) if overrides else None
    day = len(loads) - 1
    return verdict(days_of(daily(loads), until=day, thresholds=thresholds)[day], RULE.rule_id)


DOUBLED = [500.0] * 28 + [1000.0] * 7
RATIO = ewma(DOUBLED, 7) / ewma(DOUBLED, 28)  # 1.3394, as in RULES.md


def test_the_doubling_vector_is_moderate() -> None:
    label, value, threshold = last_day(DOUBLED)
    assert value == pytest.approx(RATIO)
    assert (label, threshold) == ("moderate", RULE.moderate)


@pytest.mark.parametrize(
    ("moderate", "high", "expected"),
    [
        (0.0, None, None),  # at the threshold is not above it
        (-1e-6, None, "moderate"),
        (-0.1, 0.0, "moderate"),
        (-0.1, -1e-6, "high"),
    ],
)
def test_at_just_below_and_just_above(moderate: float, high: float | None, expected: str | None) -> None:
    # Three days into the jump the ratio is still rising, so today is its peak (no latch
    # from an earlier day). Offsets are from the ratio as computed: float rounding differs
    # from the pure-Python EWMA in the last bits.
    rising = [500.0] * 28 + [1000.0] * 3
    computed = last_day(rising)[1]
    assert computed == pytest.approx(ewma(rising, 7) / ewma(rising, 28))
    assert computed is not None
    overrides = {"moderate": computed + moderate}
    if high is not None:
        overrides["high"] = computed + high
    assert last_day(rising, **overrides)[0] == expected


@pytest.mark.parametrize(
    ("history_days", "expected"), [(RULE.min_history_days - 1, None), (RULE.min_history_days, "moderate")]
)
def test_needs_28_days_of_history(history_days: int, expected: str | None) -> None:
    loads = [500.0] * (history_days - 4) + [1500.0] * 4
    assert ewma(loads, 7) / ewma(loads, 28) > 1.5
    assert last_day(loads)[0] == expected


def test_moderate_at_most_unless_a_team_restores_the_old_grading() -> None:
    loads = [500.0] * 28 + [1500.0] * 7  # ACWR about 1.6
    assert last_day(loads)[:1] == ("moderate",)
    assert last_day(loads, high=1.5)[0] == "high"


@pytest.mark.parametrize(("days_a_week", "expected"), [(2, None), (3, "moderate")])
def test_only_for_athletes_training_3_days_a_week(days_a_week: int, expected: str | None) -> None:
    # For someone training twice a week every session is a 7-day spike against the 28-day mean.
    week = [1500.0] * days_a_week + [0.0] * (7 - days_a_week)
    loads = week * 4 + [3000.0] * days_a_week
    label, value, _ = last_day(loads)
    assert value is not None and value > RULE.moderate
    assert label == expected


def test_floor_on_the_week_load() -> None:
    small = [x / 10 for x in DOUBLED]  # the same ratio on a 700-step week
    assert last_day(small)[1] == pytest.approx(RATIO)
    assert last_day(small)[0] is None
