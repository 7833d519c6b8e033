"""Session RPE as load (issue 25): a team that logs only how hard sessions felt gets its load
rules judged, in one measure per athlete, and every reason on load says which measure it used."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from scoring.assess import History, score_athlete
from scoring.errors import ConfigError
from scoring.load import LoadSettings, athlete_measures, session_loads
from scoring.state import AthleteState
from scoring.thresholds import thresholds_from_mapping
from tests.unit.scoring.builders import end_of, feature, features, pain, wellness

SRPE_STEPS = LoadSettings().srpe_steps


def rated(day: int, rpe: float, minutes: float, **columns: Any) -> dict[str, Any]:
    """A session logged with a rating and no pod: no steps at all."""
    return feature(day, 0, rpe=rpe, duration_s=minutes * 60.0, plain_weighted_steps=0.0, **columns)


def test_a_rated_session_without_steps_counts_rpe_times_minutes() -> None:
    loads = session_loads(features([rated(0, 6, 45), rated(1, 3, 30)]))
    assert loads["measure"].to_list() == ["srpe", "srpe"]
    assert loads["load"].to_list() == pytest.approx([6 * 45 * SRPE_STEPS, 3 * 30 * SRPE_STEPS])


def test_an_athlete_with_pods_keeps_steps_and_a_rating_adds_nothing() -> None:
    """Like with like: once the first training session has steps, ratings are not mixed in."""
    loads = session_loads(features([feature(0, 3000, rpe=5.0), rated(1, 8, 60)]))
    assert loads["measure"].to_list() == ["steps", "steps"]
    assert loads["load"].to_list() == [3000.0, 0.0]


def test_each_athlete_has_their_own_measure_and_a_team_can_choose_one() -> None:
    both = features([rated(0, 5, 60, athlete="rater"), feature(0, 3000, athlete="pod", rpe=4.0)])
    measures = dict(athlete_measures(both, LoadSettings()).select("athlete", "measure").iter_rows())
    assert measures == {"rater": "srpe", "pod": "steps"}
    chosen = thresholds_from_mapping({"load": {"measure": "srpe"}}).load
    loads = session_loads(both, settings=chosen).sort("athlete")
    assert loads["load"].to_list() == pytest.approx([4 * 30 * SRPE_STEPS, 5 * 60 * SRPE_STEPS])
    with pytest.raises(ConfigError, match="measure"):
        thresholds_from_mapping({"load": {"measure": "minutes"}})


def week(start: int, minutes: float) -> list[dict[str, Any]]:
    """Five sessions at RPE 4 in the week from day ``start``."""
    return [rated(start + d, 4, minutes) for d in (0, 1, 2, 4, 5)]


def judged(rows: list[dict[str, Any]], day: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reasons by rule from the batch timeline and from the folded state, which must agree."""
    history = History(team="t", athlete="a", sessions=features(rows), wellness=wellness())
    batch = score_athlete(history, at=end_of(day))
    state = AthleteState(team="t", athlete="a")
    for row in rows:
        state.add_session(row)
    folded = state.assess(at=end_of(day))
    assert [r.to_dict() for r in folded.reasons] == [r.to_dict() for r in batch.reasons]
    return {r.rule: r for r in batch.reasons}, {r.rule: r for r in folded.reasons}


@pytest.mark.parametrize(("minutes", "raised"), [(40, False), (45, False), (46, False), (47, True)])
def test_weekly_ramp_judges_a_rating_only_team_at_its_threshold(minutes: float, raised: bool) -> None:
    """Five steady weeks of five 40-minute sessions at RPE 4, then a week of ``minutes``-minute
    ones: the ratio of the weeks is minutes / 40 (46: 1.15, weekly_ramp's moderate threshold,
    which it must exceed)."""
    rows = [s for w in range(5) for s in week(7 * w, 40)] + week(35, minutes)
    reasons, _ = judged(rows, 41)
    assert ("weekly_ramp" in reasons) is raised, reasons
    if raised:
        assert reasons["weekly_ramp"].value == pytest.approx(minutes / 40)
        assert reasons["weekly_ramp"].message.endswith("(load in session RPE x minutes)")


def test_no_rest_counts_rated_days_and_says_so() -> None:
    """Eleven days in a row of 30 minutes at RPE 3 (3,600 step-equivalents, over no_rest's 600)."""
    rows = [rated(d, 3, 30) for d in range(11)]
    reasons, _ = judged(rows, 10)
    assert reasons["no_rest"].value == 11
    assert reasons["no_rest"].message.endswith("(load in session RPE x minutes)")


def test_a_rule_on_steps_names_steps() -> None:
    rows = [feature(d, 3000) for d in range(11)]
    reasons, _ = judged(rows, 10)
    assert reasons["no_rest"].message.endswith("(load in impact-weighted steps)")


def test_a_rule_not_on_load_names_no_measure() -> None:
    history = History(team="t", athlete="a", sessions=features([rated(0, 3, 30)]),
                      wellness=wellness([pain(0, "knee", 8, kind="sharp")]))  # fmt: skip
    (reason,) = score_athlete(history, at=end_of(0)).reasons
    assert reason.rule == "pain_acute"
    assert "load in" not in reason.message


def test_the_measure_is_decided_again_when_an_earlier_session_arrives_late() -> None:
    """The state folds a rated session that lands before the athlete's first pod session: the
    whole series turns to sRPE, as the timeline says."""
    state = AthleteState(team="t", athlete="a")
    state.add_session(feature(5, 3000))
    assert state.measure == "steps"
    late = rated(1, 5, 60)
    state.add_session(late)
    assert state.measure == "srpe"
    want = score_athlete(History(team="t", athlete="a", sessions=features([feature(5, 3000), late]),
                                 wellness=wellness()), at=end_of(6))  # fmt: skip
    assert [r.to_dict() for r in state.assess(at=end_of(6)).reasons] == [r.to_dict() for r in want.reasons]
    assert pl.DataFrame(state.sessions)["load"].to_list() == pytest.approx([5 * 60 * SRPE_STEPS, 0.0])


def test_monotony_judges_rated_days() -> None:
    """Eight varied weeks (hard, easy and rest days), then a week of the same hour at RPE 6 every
    day: monotony (capped, every day alike) with strain above the athlete's usual."""
    varied = {0: (4, 60), 2: (3, 30), 4: (5, 45), 5: (2, 20)}
    rows = [rated(7 * w + d, rpe, minutes) for w in range(8) for d, (rpe, minutes) in varied.items()]
    rows += [rated(56 + d, 6, 60) for d in range(7)]
    reasons, _ = judged(rows, 62)
    assert reasons["monotony"].value >= 2.0
    assert reasons["monotony"].message.endswith("(load in session RPE x minutes)")
    before, _ = judged(rows[:-7], 55)
    assert "monotony" not in before
