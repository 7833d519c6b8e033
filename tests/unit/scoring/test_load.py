"""Load in impact-weighted steps: baselines per activity and placement, the daily calendar."""

import datetime as dt
from typing import Any

import polars as pl
import pytest

from scoring.load import LoadSettings, daily_loads, session_loads
from scoring.schemas import DAY_MS
from tests.unit.scoring.builders import T0, day_ts, feature, features


def impact_session(day: int, n: int, median: float, weighted_sum: float, **columns: Any) -> dict[str, object]:
    columns.setdefault("placement", "shin")
    return feature(day, 0, n_steps=n, n_impact=n, impact_median=median, impact_weighted_sum=weighted_sum, **columns)


def loads_of(rows: list[dict[str, object]]) -> list[float]:
    return session_loads(features(rows))["load"].to_list()


def test_first_session_uses_its_own_median() -> None:
    assert loads_of([impact_session(0, 100, 5.0, 600.0)]) == [pytest.approx(600.0 / 5.0)]


def test_baseline_is_the_median_of_previous_sessions_within_28_days() -> None:
    rows = [
        impact_session(0, 100, 9.0, 900.0),  # 30 days before the last: out of the window
        impact_session(20, 100, 4.0, 400.0),
        impact_session(22, 100, 6.0, 600.0),
        impact_session(25, 100, 5.0, 500.0),
        impact_session(30, 100, 7.0, 700.0),
    ]
    baseline = (4.0 + 6.0 + 5.0) / 3  # median of 4, 6 and 5
    assert loads_of(rows)[-1] == pytest.approx(700.0 / baseline)


def test_baselines_are_per_placement_and_activity() -> None:
    rows = [
        impact_session(0, 100, 4.0, 400.0),
        impact_session(1, 100, 8.0, 800.0, placement="foot"),
        impact_session(2, 100, 6.0, 600.0, activity="jump_rope"),
        impact_session(3, 100, 4.0, 440.0),
    ]
    assert loads_of(rows)[-1] == pytest.approx(440.0 / 4.0)


def test_steps_without_impact_count_plainly() -> None:
    rows = [impact_session(0, 100, 5.0, 500.0, plain_weighted_steps=30.0)]
    assert loads_of(rows) == [pytest.approx(100.0 + 30.0)]


def test_daily_loads_fill_rest_days_and_skip_non_training() -> None:
    rows = [feature(0, 500), feature(3, 700), feature(3, 300, activity="walk", hour=18.0)]
    daily = daily_loads(session_loads(features(rows)), until=day_ts(4))
    assert daily["load"].to_list() == [500.0, 0.0, 0.0, 700.0, 0.0]
    assert daily["n_sessions"].to_list() == [1, 0, 0, 1, 0]


def test_load_is_null_before_the_first_training_day() -> None:
    extra = pl.DataFrame({"team": ["t"], "athlete": ["a"], "day": [dt.date(2025, 12, 30)]})
    daily = daily_loads(session_loads(features([feature(0, 500)])), also=[extra])
    assert daily["load"].to_list() == [None, None, 500.0]


def test_days_are_local_calendar_days() -> None:
    late = T0 + DAY_MS - 30 * 60_000  # 23:30 UTC on day 0 is 01:30 on day 1 at +02:00
    rows = [feature(0, 500, start_ts=late, end_ts=late + 60_000, first_ts=late, last_ts=late + 60_000)]
    utc = daily_loads(session_loads(features(rows)))
    local = daily_loads(session_loads(features(rows), tz="+02:00"), tz="+02:00")
    assert local["day"][0] - utc["day"][0] == dt.timedelta(days=1)


def test_load_settings_choose_training_activities() -> None:
    rows = [feature(0, 500, activity="walk")]
    counted = session_loads(features(rows), settings=LoadSettings(activities=("walk",)))
    assert counted["training"].to_list() == [True]
