"""session_spike: a session / the largest of the previous 4 of the same activity in 28 days (off by default)."""

from collections.abc import Sequence
from typing import Any

import pytest

from scoring.rules import SessionSpike
from scoring.thresholds import Thresholds, thresholds_from_mapping
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = SessionSpike()


def _with(**fields: float | bool) -> Thresholds:
    return thresholds_from_mapping({RULE.rule_id: {"enabled": True, **fields}})


ON = _with()


def last_session(
    previous: Sequence[float], load: float, *, gap: int = 2, **columns: Any
) -> tuple[str | None, float | None, float | None]:
    rows = [feature(gap * i, x, **columns) for i, x in enumerate(previous)]
    day = gap * len(previous)
    rows.append(feature(day, load, **columns))
    return verdict(days_of(features(rows), until=day, thresholds=ON)[day], RULE.rule_id)


def test_off_by_default_longest_session_judges_the_spike() -> None:
    rows = [feature(0, 400), feature(2, 400), feature(4, 700), feature(6, 1500)]
    today = days_of(features(rows), until=6)[6]
    assert f"{RULE.rule_id}__severity" not in today
    assert verdict(today, "longest_session")[0] == "high"


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        (1.5 * 700, None),  # at the moderate threshold: not above it
        (1.5 * 700 + 1, "moderate"),
        (2.0 * 700, "moderate"),
        (2.0 * 700 + 1, "high"),
        (1500, "high"),  # the seed's jump-rope session: 1500 / 700 = 2.14
    ],
)
def test_thresholds_against_the_largest_recent_session(load: float, expected: str | None) -> None:
    previous = [400, 400, 700, 500]
    label, value, threshold = last_session(previous, load, activity="jump_rope")
    assert label == expected
    assert value == pytest.approx(load / max(previous))
    if expected:
        assert threshold == {"moderate": RULE.moderate, "high": RULE.high}[expected]


@pytest.mark.parametrize(("steps", "expected"), [(RULE.min_steps - 1, None), (RULE.min_steps, "high")])
def test_floor_on_session_steps(steps: int, expected: str | None) -> None:
    assert last_session([100, 100], steps)[0] == expected


def test_only_the_previous_four_sessions_count() -> None:
    label, value, _ = last_session([5000, 1000, 1000, 1000, 1000], 1600)
    assert label == "moderate"
    assert value == pytest.approx(1.6)


def test_sessions_older_than_28_days_do_not_count() -> None:
    assert last_session([1000], 3000, gap=29)[0] is None
    assert last_session([1000], 3000, gap=28)[0] == "high"


def test_other_activities_are_not_a_reference() -> None:
    rows = [feature(0, 500, activity="run"), feature(2, 1000, activity="jump_rope")]
    assert verdict(days_of(features(rows), until=2, thresholds=ON)[2], RULE.rule_id)[0] is None


def test_team_override() -> None:
    rows = [feature(0, 1000), feature(2, 2200)]
    override = days_of(features(rows), until=2, thresholds=_with(high=2.5))[2]
    assert verdict(override, RULE.rule_id)[0] == "moderate"
