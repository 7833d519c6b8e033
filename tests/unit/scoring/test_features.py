"""session_features: one vectorised pass, one row per session."""

import numpy as np
import polars as pl
import pytest
from scipy.signal import savgol_filter

from scoring.features import DESCENT_FACTOR, DESCENT_WINDOW_STEPS, WARMUP_MS, descent_slope, session_features
from scoring.schemas import SESSION_FEATURES_SCHEMA, SESSIONS_SCHEMA, STEPS_SCHEMA
from tests.unit.scoring.builders import T0, session, sessions, steps


def one(steps_frame: pl.DataFrame) -> dict[str, object]:
    out = session_features(steps_frame, pl.DataFrame(schema=SESSIONS_SCHEMA))
    assert out.height == 1
    return out.row(0, named=True)


def test_slope_matches_scipy_savgol_per_session() -> None:
    rng = np.random.default_rng(7)
    lengths = [400, 60, 250]
    series = [np.cumsum(rng.normal(0, 0.3, n)) for n in lengths]
    for n, elevation in zip(lengths, series, strict=True):
        got = descent_slope(elevation)
        if n >= DESCENT_WINDOW_STEPS:
            expected = savgol_filter(elevation, DESCENT_WINDOW_STEPS, 1, deriv=1, mode="interp")
        else:  # shorter than the window: the slope of the whole session's line
            expected = np.full(n, np.polyfit(np.arange(n), elevation, 1)[0])
        np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize(("drop_per_100", "descending"), [(2.1, True), (1.9, False), (-3.0, False)])
def test_descent_is_a_fall_faster_than_2m_per_100_steps(drop_per_100: float, descending: bool) -> None:
    n = 300
    elevation = 100.0 - np.arange(n) * drop_per_100 / 100
    row = one(steps(n, start_ts=T0, elevation=elevation.tolist(), impact=None))
    assert row["descent_steps"] == (n if descending else 0)
    assert row["plain_weighted_steps"] == pytest.approx(n * (DESCENT_FACTOR if descending else 1.0))


def test_steps_without_elevation_are_never_on_a_descent() -> None:
    n = 300
    frame = steps(n, start_ts=T0, elevation=(100.0 - np.arange(n) * 0.05).tolist())
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 100).then(None).otherwise(pl.col("elevation_m")).alias("elevation_m")
    )
    assert one(frame)["descent_steps"] == n - 100


def test_impact_weighting_and_counts() -> None:
    frame = steps(4, start_ts=T0, impact=[4.0, 6.0, 8.0, 2.0]).with_columns(impact_g=pl.Series([4.0, None, 8.0, 2.0]))
    row = one(frame)
    assert (row["n_steps"], row["n_impact"]) == (4, 3)
    assert row["impact_median"] == 4.0
    assert row["impact_weighted_sum"] == 14.0
    assert row["plain_weighted_steps"] == 1.0
    assert row["impact_mean_L"] == pytest.approx((4.0 + 8.0) / 2)
    assert row["impact_mean_R"] == 2.0


def test_warmup_ratio_is_the_larger_of_cadence_and_impact_ratios() -> None:
    warm, rest = 300, 900  # 3 minutes at 100 spm, then 6 minutes at 150 spm
    cadence = [100.0] * warm + [150.0] * rest
    impact = [4.0] * warm + [5.0] * rest
    row = one(steps(warm + rest, start_ts=T0, cadence=cadence, impact=impact))
    in_warmup = sum(1 for t in np.concatenate([[0.0], np.cumsum(60_000 / np.array(cadence[:-1]))]) if t < WARMUP_MS)
    cadence_ratio = np.mean(cadence[:in_warmup]) / np.median(cadence)
    impact_ratio = np.mean(impact[:in_warmup]) / np.median(impact)
    assert row["warmup_ratio"] == pytest.approx(max(cadence_ratio, impact_ratio))
    assert row["cadence_median"] == np.median(cadence)  # what the dashboard's cadence chart draws


def test_warmup_ratio_needs_a_session_longer_than_the_warmup() -> None:
    assert one(steps(200, start_ts=T0, cadence=120.0))["warmup_ratio"] is None  # 100 s


def test_fatigue_compares_last_third_with_first_third() -> None:
    cadence = [180.0] * 100 + [175.0] * 100 + [171.0] * 100
    impact = [5.0] * 100 + [5.2] * 100 + [5.6] * 100
    row = one(steps(300, start_ts=T0, cadence=cadence, impact=impact))
    assert row["fatigue_cadence_change"] == pytest.approx(171.0 / 180.0 - 1)
    assert row["fatigue_impact_change"] == pytest.approx(5.6 / 5.0 - 1)


def test_sessions_and_steps_are_joined_both_ways() -> None:
    stepped = steps(10, start_ts=T0, session_id="orphan")
    lifecycle = sessions([session("quiet", start_ts=T0, activity="walk")])
    out = session_features(stepped, lifecycle).sort("session_id")
    assert out["session_id"].to_list() == ["orphan", "quiet"]
    assert out["activity"].to_list() == ["other", "walk"]
    assert out["n_steps"].to_list() == [10, 0]
    assert out.schema == SESSION_FEATURES_SCHEMA


def test_empty_inputs_give_an_empty_frame_with_the_schema() -> None:
    out = session_features(pl.DataFrame(schema=STEPS_SCHEMA), pl.DataFrame(schema=SESSIONS_SCHEMA))
    assert out.is_empty()
    assert out.schema == SESSION_FEATURES_SCHEMA


def test_many_sessions_in_one_pass_match_one_at_a_time() -> None:
    frames = [
        steps(150 + 50 * i, start_ts=T0 + i * 10**7, session_id=f"s{i}", impact=4.0 + i, cadence=150.0 + i)
        for i in range(4)
    ]
    together = session_features(pl.concat(frames), pl.DataFrame(schema=SESSIONS_SCHEMA))
    apart = pl.concat([session_features(f, pl.DataFrame(schema=SESSIONS_SCHEMA)) for f in frames])
    assert together.sort("session_id").equals(apart.sort("session_id"))
