"""hard_surface: share of the week's load on hard ground, declared or inferred from impact."""

from typing import Any

import pytest

from scoring.rules import HardSurface
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = HardSurface()


def week(rows: list[dict[str, object]], day: int) -> tuple[str | None, float | None, float | None]:
    return verdict(days_of(features(rows), until=day)[day], RULE.rule_id)


@pytest.mark.parametrize(("hard", "expected"), [(1000.0, None), (1001.0, "moderate")])
def test_share_of_the_week(hard: float, expected: str | None) -> None:
    rows = [feature(0, 1000, surface="grass"), feature(2, hard, surface="asphalt")]
    label, value, _ = week(rows, 2)
    assert value == pytest.approx(hard / (hard + 1000.0))
    assert label == expected


def test_one_session_is_no_pattern() -> None:
    assert week([feature(0, 5000, surface="asphalt")], 0)[:2] == (None, None)


def test_alone_it_is_at_most_moderate_and_high_with_a_load_rule() -> None:
    rows = [feature(0, 1000, surface="tiles"), feature(2, 1000, surface="tiles")]
    assert week(rows, 2)[0] == "moderate"
    in_a_row = [feature(d, 1000, surface="asphalt") for d in range(3)]  # no_rest for a new athlete
    assert week(in_a_row, 2)[0] == "high"


def impact(day: int, median: float, **columns: Any) -> dict[str, object]:
    return feature(
        day,
        0,
        n_steps=1000,
        n_impact=1000,
        impact_median=median,
        impact_weighted_sum=1000 * median,
        placement="shin",
        **columns,
    )


@pytest.mark.parametrize(
    ("median", "expected"), [(RULE.inferred_ratio * 5.0, None), (RULE.inferred_ratio * 5.0 + 0.01, "moderate")]
)
def test_undeclared_surface_inferred_from_impact(median: float, expected: str | None) -> None:
    soft = [impact(d, 5.0, surface="grass") for d in (0, 2, 4)]  # soft baseline 5.0 g
    assert week([*soft, impact(18, median), impact(20, median)], 20)[0] == expected


def test_inference_compares_the_same_placement() -> None:
    soft = [impact(d, 5.0, surface="grass") for d in (0, 2, 4)]
    foot = impact(20, 9.0)
    foot["placement"] = "foot"  # no soft baseline on the foot: nothing inferred
    assert week([*soft, foot], 20)[0] is None
