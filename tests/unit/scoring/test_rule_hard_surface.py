"""hard_surface: share of the week's load on hard ground, declared or inferred from impact."""

from typing import Any

import pytest

from scoring.rules import HardSurface
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = HardSurface()


def week(rows: list[dict[str, object]], day: int) -> tuple[str | None, float | None, float | None]:
    return verdict(days_of(features(rows), until=day)[day], RULE.rule_id)


@pytest.mark.parametrize(("hard", "expected"), [(1999.0, None), (2000.0, None), (2001.0, "moderate")])
def test_share_of_the_week(hard: float, expected: str | None) -> None:
    rows = [feature(0, 2000, surface="grass"), *(feature(d, hard / 2, surface="asphalt") for d in (2, 4))]
    label, value, threshold = week(rows, 4)
    assert value == pytest.approx(hard / (hard + 2000.0))
    assert label == expected
    assert threshold == RULE.moderate


def test_one_session_is_no_pattern() -> None:
    assert week([feature(0, 5000, surface="asphalt")], 0)[:2] == (None, None)


@pytest.mark.parametrize(("hard_sessions", "expected"), [(1, None), (2, "moderate")])
def test_it_takes_two_hard_sessions_in_the_week(hard_sessions: int, expected: str | None) -> None:
    # Almost all of the week's load on asphalt, but one session of it is no pattern.
    hard = [feature(d, 3000 / hard_sessions, surface="asphalt") for d in range(hard_sessions)]
    label, _, _ = week([*hard, feature(5, 200, surface="grass")], 5)
    assert label == expected


@pytest.mark.parametrize("first_weekday", range(7))
def test_a_weekly_routine_on_mixed_ground_is_quiet_whatever_day_it_starts(first_weekday: int) -> None:
    # The seed's steady runner: grass, asphalt and track on fixed weekdays. Which sessions the
    # first 7-day window holds depends on the weekday the history starts on; the verdict must not.
    # Landings on asphalt are harder, so its impact-weighted load is the week's largest.
    routine = {0: ("grass", 4400), 2: ("asphalt", 4600), 5: ("track", 4400)}
    rows = [
        feature(d, load, surface=surface)
        for d in range(56)
        for surface, load in [routine.get((d + first_weekday) % 7, (None, 0))]
        if load
    ]
    days = days_of(features(rows), until=62)
    assert not [d for d, row in days.items() if verdict(row, RULE.rule_id)[0]]


def test_alone_it_is_at_most_moderate_and_high_with_a_load_rule() -> None:
    rows = [feature(0, 1000, surface="tiles"), feature(2, 1000, surface="tiles")]
    assert week(rows, 2)[0] == "moderate"
    in_a_row = [feature(d, 1000, surface="asphalt") for d in range(3)]  # no_rest for a new athlete
    assert week(in_a_row, 2)[0] == "high"


def impact(day: int, median: float, steps: int = 1000, **columns: Any) -> dict[str, object]:
    return feature(
        day,
        0,
        n_steps=steps,
        n_impact=steps,
        impact_median=median,
        impact_weighted_sum=steps * median,
        placement="shin",
        **columns,
    )


@pytest.mark.parametrize(
    ("median", "expected"), [(RULE.inferred_ratio * 5.0, None), (RULE.inferred_ratio * 5.0 + 0.01, "moderate")]
)
def test_undeclared_surface_inferred_from_impact(median: float, expected: str | None) -> None:
    # Soft baseline 5.0 g; the soft runs are the longer ones, so no load rule joins in.
    soft = [impact(d, 5.0, steps=1500, surface="grass") for d in (0, 2, 4)]
    assert week([*soft, impact(18, median), impact(20, median)], 20)[0] == expected


def test_inference_compares_the_same_placement() -> None:
    soft = [impact(d, 5.0, surface="grass") for d in (0, 2, 4)]
    foot = impact(20, 9.0)
    foot["placement"] = "foot"  # no soft baseline on the foot: nothing inferred
    assert week([*soft, foot], 20)[0] is None
