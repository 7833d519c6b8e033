"""longest_session: a session / the longest of the same activity in the previous 30 days (Frandsen 2025)."""

from collections.abc import Sequence
from typing import Any

import pytest

from scoring.rules import LongestSession
from scoring.thresholds import thresholds_from_mapping
from tests.unit.scoring.builders import days_of, feature, features, verdict

RULE = LongestSession()


def last_session(
    previous: Sequence[float], load: float, *, gap: int = 2, thresholds: Any = None, **columns: Any
) -> tuple[str | None, float | None, float | None]:
    rows = [feature(gap * i, x, **columns) for i, x in enumerate(previous)]
    day = gap * len(previous)
    rows.append(feature(day, load, **columns))
    return verdict(days_of(features(rows), until=day, thresholds=thresholds)[day], RULE.rule_id)


SEED = [400, 400, 700, 500]  # the seed's rope sessions before the 1500


@pytest.mark.parametrize(
    ("jumps", "expected"),
    [
        (1.1 * 700, None),  # at the moderate threshold: not above it
        (1.1 * 700 + 1, "moderate"),
        (2.0 * 700, "moderate"),
        (2.0 * 700 + 1, "high"),
        (1500, "high"),  # the seed's fifth session: 1500 / 700 = 2.14
    ],
)
def test_thresholds_against_the_longest_session_of_30_days(jumps: float, expected: str | None) -> None:
    label, value, threshold = last_session(SEED, jumps, activity="jump_rope")
    assert label == expected
    assert value == pytest.approx(jumps / max(SEED))
    if expected:
        assert threshold == {"moderate": RULE.moderate, "high": RULE.high}[expected]


def test_rope_counts_jumps_not_impact() -> None:
    # Harder landings weigh a rope session's load up, but its length is the jumps.
    rows = [feature(d, 700, activity="jump_rope") for d in (0, 1, 2)]
    rows.append(feature(4, 1000, activity="jump_rope", n_steps=1000, plain_weighted_steps=3000.0))  # load 3000
    label, value, _ = verdict(days_of(features(rows), until=4)[4], RULE.rule_id)
    assert (label, value) == ("moderate", pytest.approx(1000 / 700))


@pytest.mark.parametrize(("metres", "expected"), [(5500.0, None), (5501.0, "moderate"), (10001.0, "high")])
def test_distance_when_the_device_sends_it(metres: float, expected: str | None) -> None:
    # Steps say nothing here: the longest run of the month was 5 km and the steps are equal.
    previous = [feature(d, 4000, distance_m=m) for d, m in ((0, 5000.0), (1, 3000.0), (2, 3000.0))]
    today = feature(4, 4000, distance_m=metres)
    label, value, _ = verdict(days_of(features([*previous, today]), until=4)[4], RULE.rule_id)
    assert value == pytest.approx(metres / 5000.0)
    assert label == expected


def test_impact_weighted_steps_where_the_distance_is_unknown() -> None:
    label, value, _ = last_session([3000, 3000, 4000], 8001)
    assert (label, value) == ("high", pytest.approx(8001 / 4000))


def test_the_month_longest_counts_however_many_sessions_came_after_it() -> None:
    # session_spike looked at the last 4 sessions only; the longest of 30 days is the reference here.
    label, value, _ = last_session([5000, 1000, 1000, 1000, 1000, 1000], 5400)
    assert value == pytest.approx(5400 / 5000)
    assert label is None


@pytest.mark.parametrize(("gap", "longest"), [(30, 1000), (31, 400)])
def test_only_the_previous_30_days_count(gap: int, longest: int) -> None:
    # A long session ``gap`` days before today, and three short ones since.
    rows = [feature(0, 1000), *(feature(gap - k, 400) for k in (3, 2, 1)), feature(gap, 3000)]
    label, value, _ = verdict(days_of(features(rows), until=gap)[gap], RULE.rule_id)
    assert (label, value) == ("high", pytest.approx(3000 / longest))


@pytest.mark.parametrize(("earlier", "expected"), [(RULE.min_sessions - 1, None), (RULE.min_sessions, "high")])
def test_the_month_longest_needs_a_few_sessions_to_mean_anything(earlier: int, expected: str | None) -> None:
    assert last_session([1000] * earlier, 3000)[0] == expected


@pytest.mark.parametrize(("steps", "expected"), [(RULE.min_steps - 1, None), (RULE.min_steps, "high")])
def test_floor_on_session_steps(steps: int, expected: str | None) -> None:
    assert last_session([100, 100, 100], steps)[0] == expected


def test_other_activities_are_not_a_reference() -> None:
    rows = [feature(0, 500, activity="run"), feature(2, 1000, activity="jump_rope")]
    assert verdict(days_of(features(rows), until=2)[2], RULE.rule_id)[0] is None


def test_a_team_sets_its_own_bands() -> None:
    thresholds = thresholds_from_mapping({RULE.rule_id: {"moderate": 1.5}})
    assert last_session([1000] * 3, 1400, thresholds=thresholds)[0] is None
    assert last_session([1000] * 3, 1400)[0] == "moderate"


@pytest.mark.parametrize(
    ("ratio", "severity", "cited"),
    [(1.2, "moderate", "10-30% over the month's longest raised the injury risk 1.6-fold"),
     (1.6, "moderate", "30-100% over the month's longest raised the injury risk 1.5-fold"),
     (2.1, "high", "more than twice the month's longest raised the injury risk 2.3-fold")],
)  # fmt: skip
def test_the_message_gives_the_ratio_and_the_hazard_of_its_band(ratio: float, severity: str, cited: str) -> None:
    label, value, threshold = last_session([1000] * 3, 1000 * ratio)
    assert label == severity
    assert value is not None and threshold is not None
    from scoring.severity import Severity

    message = RULE.message(value, threshold, Severity[severity.upper()])
    assert message.startswith(f"This session is {ratio:.1f}x the longest of the last 30 days")
    assert cited in message


def test_a_distance_not_yet_known_is_estimated_at_the_athletes_own_stride() -> None:
    # Three runs of 4 km in 4,000 steps (1 m a step), the longest 5 km in 5,000. A run without its
    # distance (as a run in progress is) is judged on steps x 1 m, not on its heavier landings' load.
    previous = [feature(d, 4000, distance_m=4000.0) for d in (0, 1)] + [feature(2, 5000, distance_m=5000.0)]
    hard = feature(4, 5400, plain_weighted_steps=5400 * 1.5)  # load 8,100: 1.6x the longest load
    label, value, _ = verdict(days_of(features([*previous, hard]), until=4)[4], RULE.rule_id)
    assert (label, value) == (None, pytest.approx(5400 / 5000))
    longer = feature(4, 5600, plain_weighted_steps=5600.0)
    label, value, _ = verdict(days_of(features([*previous, longer]), until=4)[4], RULE.rule_id)
    assert (label, value) == ("moderate", pytest.approx(5600 / 5000))
