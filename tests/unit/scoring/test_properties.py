"""Properties: row order does not matter, more load never lowers a load rule, nulls never crash."""

from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.assess import score_team
from scoring.live import LiveSession
from scoring.schemas import SESSION_FEATURES_SCHEMA
from scoring.severity import Severity
from scoring.state import AthleteState
from tests.unit.scoring.builders import day_ts, end_of, feature, features, pain, wellness

DAYS = 40
FAST = settings(max_examples=25, deadline=None)

maybe = st.none
sessions_st = st.lists(
    st.builds(
        lambda day, steps, athlete, activity, surface, placement, warmup, descent, lr: feature(
            day,
            steps,
            athlete=athlete,
            hour=7.0 + steps % 12,
            activity=activity,
            surface=surface,
            placement=placement,
            warmup_ratio=warmup,
            descent_steps=int(steps * descent),
            impact_mean_L=None if lr is None else lr[0],
            impact_mean_R=None if lr is None else lr[1],
            shoe_id="s1" if steps % 2 else None,
        ),
        day=st.integers(0, DAYS),
        steps=st.integers(1, 6000),
        athlete=st.sampled_from(["a", "b"]),
        activity=st.sampled_from(["run", "jump_rope", "walk", "other"]),
        surface=st.none() | st.sampled_from(["asphalt", "grass", "tiles"]),
        placement=st.none() | st.sampled_from(["foot", "shin"]),
        warmup=st.none() | st.floats(0.5, 1.2),
        descent=st.floats(0, 1),
        lr=st.none() | st.tuples(st.floats(2, 10), st.floats(2, 10)),
    ),
    max_size=30,
)
pains_st = st.lists(
    st.builds(
        lambda day, site, score, kind, athlete: pain(day, site, score, kind=kind, athlete=athlete),
        day=st.integers(0, DAYS),
        site=st.sampled_from(["calf", "knee"]),
        score=st.integers(0, 10),
        kind=st.sampled_from(["soreness", "ache", "sharp"]),
        athlete=st.sampled_from(["a", "b"]),
    ),
    max_size=10,
)


def score(rows: list[dict[str, Any]], pains: list[dict[str, Any]], day: int = DAYS) -> pl.DataFrame:
    return score_team(features(rows), wellness(pains), at=end_of(day))


@FAST
@given(rows=sessions_st, pains=pains_st, data=st.data())
def test_row_order_does_not_change_results(
    rows: list[dict[str, Any]], pains: list[dict[str, Any]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(rows))
    shuffled_pains = data.draw(st.permutations(pains))
    assert score(rows, pains).equals(score(shuffled, shuffled_pains))


LOAD_RULES = ("longest_session", "acwr_spike", "weekly_ramp")


def load_rule_severities(rows: list[dict[str, Any]], day: int) -> dict[str, int]:
    scored = score(rows, [], day).row(0, named=True)
    labels = {r["rule"]: Severity[r["severity"].upper()] for r in scored["reasons"]}
    return {rule: int(labels.get(rule, 0)) for rule in LOAD_RULES}


@FAST
@given(
    history=st.lists(st.integers(0, 3000), min_size=22, max_size=35),
    today=st.integers(1, 4000),
    extra=st.integers(1, 4000),
)
def test_more_load_never_lowers_a_load_rule(history: list[int], today: int, extra: int) -> None:
    rows = [feature(d, x) for d, x in enumerate(history) if x]
    day = len(history)
    less = load_rule_severities([*rows, feature(day, today)], day)
    more = load_rule_severities([*rows, feature(day, today + extra)], day)
    assert all(more[rule] >= less[rule] for rule in LOAD_RULES), (less, more)


nullable = st.sampled_from(
    [name for name in SESSION_FEATURES_SCHEMA.names() if name not in ("team", "athlete", "device", "session_id")]
)


@FAST
@given(rows=sessions_st, pains=pains_st, nulls=st.lists(st.tuples(st.integers(0, 29), nullable), max_size=40))
def test_nulls_never_crash(
    rows: list[dict[str, Any]], pains: list[dict[str, Any]], nulls: list[tuple[int, str]]
) -> None:
    for index, column in nulls:
        if index < len(rows):
            rows[index][column] = None
    scored = score(rows, pains)
    assert set(scored["level"]) <= {"low", "moderate", "high", "critical"}
    assert scored["score"].is_between(0, 100).all()


def test_empty_history_never_crashes() -> None:
    assert score([], []).is_empty()
    live = LiveSession(
        AthleteState(team="t", athlete="a"),
        {"device": "d", "session_id": "s", "activity": "run", "start_ts": day_ts(0)},
    )
    assert live.update([{"ts": day_ts(0), "foot": "R", "cadence_spm": 170.0}]) == ()
