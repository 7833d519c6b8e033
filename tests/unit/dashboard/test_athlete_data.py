"""The dashboard's chart data: the numbers the charts draw, checked against hand computation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from scoring import session_loads
from stridewatch.dashboard.athlete_data import (
    NOT_DECLARED,
    daily_frame,
    session_frame,
    shoe_frame,
    surface_frame,
    weekly_frame,
)
from tests.unit.scoring.builders import day_ts, feature, features


def ewma(values: list[float], days: int) -> float:
    """lambda = 2 / (days + 1), seeded with the first day (Williams 2017), by hand."""
    lam, out = 2.0 / (days + 1), values[0]
    for value in values[1:]:
        out = lam * value + (1 - lam) * out
    return out


def test_daily_frame_gives_the_rules_acute_chronic_and_ratio() -> None:
    loads = [30.0] * 21 + [50.0] * 7
    frame = daily_frame(
        session_loads(features([feature(d, x) for d, x in enumerate(loads)])), at=day_ts(27, 23), tz="UTC"
    )
    last = frame.row(-1, named=True)
    assert frame["load"].to_list() == loads
    assert last["acute"] == pytest.approx(ewma(loads, 7))
    assert last["chronic"] == pytest.approx(ewma(loads, 28))
    assert last["acwr"] == pytest.approx(ewma(loads, 7) / ewma(loads, 28))
    assert last["acwr"] == pytest.approx(1.2497, abs=1e-4)  # RULES.md's cross-check vector


def test_daily_frame_counts_rest_days_as_zero_up_to_the_day_of_at() -> None:
    frame = daily_frame(session_loads(features([feature(0, 100), feature(3, 200)])), at=day_ts(5), tz="UTC")
    assert frame["load"].to_list() == [100.0, 0.0, 0.0, 200.0, 0.0, 0.0]


def test_weekly_frame_sums_calendar_weeks_and_their_change() -> None:
    monday = dt.date(2026, 1, 5)
    days = [monday + dt.timedelta(days=i) for i in range(17)]  # two full weeks and three days
    loads = [float(10 * (i % 4)) for i in range(17)]
    daily = pl.DataFrame({"day": days, "load": loads})
    weekly = weekly_frame(daily)
    sums = [sum(loads[0:7]), sum(loads[7:14]), sum(loads[14:])]
    assert weekly["week"].to_list() == [monday, monday + dt.timedelta(days=7), monday + dt.timedelta(days=14)]
    assert weekly["load"].to_list() == sums
    assert weekly["change"].to_list() == [None, pytest.approx(sums[1] / sums[0]), pytest.approx(sums[2] / sums[1])]
    assert weekly["complete"].to_list() == [True, True, False]


def test_session_frame_gives_symmetry_descent_share_and_cadence() -> None:
    rows = features([
        feature(0, 1000, impact_mean_L=8.0, impact_mean_R=6.0, descent_steps=250, impact_median=7.0,
                cadence_median=160.0),
        feature(1, 400),
    ])  # fmt: skip
    frame = session_frame(session_loads(rows))
    first, second = frame.rows(named=True)
    assert first["symmetry"] == pytest.approx(100 * 2 / 7)
    assert first["descent_share"] == pytest.approx(0.25)
    assert first["cadence"] == 160.0
    assert first["impact"] == 7.0
    assert second["symmetry"] is None and second["cadence"] is None


def test_surface_frame_shares_training_load_and_groups_undeclared() -> None:
    rows = features([
        feature(0, 600, surface="asphalt"), feature(1, 300, surface="grass"), feature(2, 100),
        feature(3, 5000, surface="asphalt", activity="walk"),  # not training load
    ])  # fmt: skip
    frame = surface_frame(session_frame(session_loads(rows)))
    assert dict(frame.select("surface", "share").iter_rows()) == {"asphalt": 0.6, "grass": 0.3, NOT_DECLARED: 0.1}


def test_shoe_frame_counts_distance_as_the_shoe_wear_rule_does() -> None:
    rows = features([
        feature(0, 5000, shoe_id="s1", distance_m=4200.0),
        feature(2, 3000, shoe_id="s1"),  # a run without distance: steps x step length
        feature(3, 800, shoe_id="s1", activity="jump_rope"),  # no distance, not a run: 0
        feature(4, 1000, shoe_id="s2", distance_m=900.0),
        feature(5, 1000),  # no shoe
    ])  # fmt: skip
    frame = shoe_frame(session_loads(rows), step_length_m=0.8, today=dt.date(2026, 1, 11))
    by_shoe = {row["shoe_id"]: row for row in frame.iter_rows(named=True)}
    assert by_shoe["s1"]["km"] == pytest.approx((4200 + 3000 * 0.8) / 1000)
    assert by_shoe["s2"]["km"] == pytest.approx(0.9)
    assert by_shoe["s1"]["age_days"] == 10  # first worn 2026-01-01
    assert set(by_shoe) == {"s1", "s2"}
