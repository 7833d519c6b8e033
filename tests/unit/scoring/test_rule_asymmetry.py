"""asymmetry: left/right symmetry index above 10/20% and above the athlete's mean + 2 SD."""

import statistics

import pytest

from scoring.rules import Asymmetry
from scoring.thresholds import thresholds_from_mapping
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = Asymmetry()


def index(left: float, right: float) -> float:
    return 100.0 * abs(left - right) / ((left + right) / 2.0)


def session(day: int, left: float, right: float = 1.0) -> dict[str, object]:
    return feature(day, 1000, impact_mean_L=left, impact_mean_R=right)


def last(rows: list[dict[str, object]], **overrides: float) -> tuple[str | None, float | None, float | None]:
    thresholds = thresholds_from_mapping({RULE.rule_id: overrides}) if overrides else None
    day = max(int(str(r["session_id"]).split("-")[1]) for r in rows)
    # Judged once the day is over: while it lasts, yesterday's verdict would still hold.
    return verdict(days_of(features(rows), until=day + 1, thresholds=thresholds)[day], RULE.rule_id)


def test_absolute_thresholds_without_history() -> None:
    assert last([session(0, 1.0625)])[0] is None  # 6.1%
    label, value, threshold = last([session(0, 1.125)])
    assert (label, threshold) == ("moderate", RULE.moderate)
    assert value == pytest.approx(index(1.125, 1.0))
    assert last([session(0, 1.25)])[0] == "high"  # 22.2%


@pytest.mark.parametrize(("offset", "expected"), [(0.0, None), (-1e-9, "moderate")])
def test_at_and_just_above_a_threshold(offset: float, expected: str | None) -> None:
    si = index(1.125, 1.0)
    assert last([session(0, 1.125)], moderate=si + offset, high=50.0)[0] == expected


def test_judged_against_the_athletes_own_usual() -> None:
    lefts = [1.12, 1.14, 1.16]  # a naturally asymmetric athlete: 11-15%
    history = [session(2 * i, left) for i, left in enumerate(lefts)]
    indices = [index(left, 1.0) for left in lefts]
    usual = statistics.mean(indices) + RULE.sd_factor * statistics.stdev(indices)
    within = 1.165  # an index of 15.2%: above 10%, under the athlete's usual bound
    assert 10 < index(within, 1.0) < usual
    assert last([*history, session(6, within)])[0] is None
    beyond = last([*history, session(6, 1.25)])
    assert beyond[0] == "high"
    assert beyond[2] == pytest.approx(max(RULE.high, usual))
