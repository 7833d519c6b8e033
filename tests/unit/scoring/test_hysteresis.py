"""Hysteresis: acute-load reasons latch until under their clear level; today never clears."""

import polars as pl

from scoring.assess import score_team
from scoring.hysteresis import latch
from scoring.schemas import DAY_MS
from scoring.severity import Bands, Severity
from scoring.thresholds import thresholds_from_mapping
from scoring.windows import DAY_INDEX, ROW
from tests.unit.scoring.builders import (
    daily,
    day_ts,
    days_of,
    end_of,
    feature,
    features,
    pain,
    severity,
    wellness,
)

BANDS = Bands(((Severity.MODERATE, 1.5), (Severity.HIGH, 2.0)))


def latched(values: list[float], clear_at: float, athletes: list[int] | None = None) -> list[int]:
    athletes = athletes or [0] * len(values)
    frame = (
        pl.DataFrame({"athlete_key": athletes, "v": values})
        .with_row_index(ROW)
        .with_columns(pl.col(ROW).cast(pl.Int64), pl.int_range(pl.len()).over("athlete_key").alias(DAY_INDEX))
    )
    frame = frame.with_columns(BANDS.rank(pl.col("v")).alias("s"))
    return frame.with_columns(latch("s", "v", clear_at=clear_at, bands=BANDS))["s"].to_list()


def test_the_worst_severity_holds_until_under_the_clear_level() -> None:
    values = [1.2, 1.6, 2.1, 1.7, 1.55, 1.45, 1.6]
    assert latched(values, 1.5) == [0, 2, 3, 3, 3, 0, 2]
    assert latched(values, 1.4) == [0, 2, 3, 3, 3, 3, 3]


def test_a_wobble_under_the_raise_level_raises_nothing() -> None:
    assert latched([1.45, 1.5, 1.49, 1.5], 1.4) == [0, 0, 0, 0]


def test_the_latch_does_not_leak_into_the_next_athlete() -> None:
    assert latched([2.1, 1.8, 1.8, 1.2], 1.5, athletes=[0, 0, 1, 1]) == [3, 3, 2, 0]


def test_acwr_stays_high_below_1_5_until_under_1_3() -> None:
    loads = [1000.0, 0.0] * 35 + [2000.0] * 14 + [1000.0, 0.0] * 2
    old_grading = thresholds_from_mapping({"acwr_spike": {"high": 1.5}})
    timeline = days_of(daily(loads), until=len(loads), thresholds=old_grading)
    tail = {d: (round(timeline[d]["acwr"], 2), severity(timeline[d], "acwr_spike")) for d in range(80, 85)}
    assert all(label == "high" for ratio, label in tail.values() if ratio >= 1.3)
    assert any(1.3 <= ratio < 1.5 for ratio, _ in tail.values())
    assert tail[84] == (1.22, None)


def test_a_day_in_progress_keeps_yesterdays_reasons() -> None:
    rows = features([feature(d, 1000) for d in range(3)])  # three days running: no_rest for a new runner
    morning = score_team(rows, wellness(), at=day_ts(3, hour=8.0)).row(0, named=True)
    assert "no_rest" in [r["rule"] for r in morning["reasons"]]
    next_morning = days_of(rows, until=4)
    assert severity(next_morning[3], "no_rest") is None  # day 3 ended without a session: a rest day


def test_only_history_up_to_at_counts() -> None:
    past = [feature(0, 1000), feature(2, 1000)]
    future = [feature(3, 5000), feature(4, 5000)]
    pains = [pain(3, "knee", 9)]
    at = end_of(2)
    alone = score_team(features(past), wellness(), at=at)
    with_future = score_team(features(past + future), wellness(pains), at=at)
    assert alone.equals(with_future)
    assert with_future["ts"][0] == at
    assert at < day_ts(3) < at + DAY_MS
