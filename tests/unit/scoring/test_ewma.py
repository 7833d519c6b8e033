"""The RULES.md cross-check vectors, computed independently (must match to 1e-3)."""

import polars as pl
import pytest

from scoring.ewma import MONOTONY_CAP, acute_load, acwr, chronic_load, monotony, rolling_ratio, strain


def last(loads: list[float], expr: pl.Expr) -> float:
    value = pl.DataFrame({"load": loads}).select(expr.alias("x"))["x"][-1]
    assert value is not None
    return float(value)


LOAD = pl.col("load")


def test_williams_vector() -> None:
    loads = [30.0] * 21 + [50.0] * 7
    assert last(loads, acute_load(LOAD)) == pytest.approx(47.3303, abs=1e-3)
    assert last(loads, chronic_load(LOAD)) == pytest.approx(37.8720, abs=1e-3)
    assert last(loads, acwr(LOAD)) == pytest.approx(1.2497, abs=1e-3)
    assert last(loads, rolling_ratio(LOAD)) == pytest.approx(1.4286, abs=1e-3)


def test_doubling_vector() -> None:
    loads = [50.0] * 28 + [100.0] * 7
    assert last(loads, acwr(LOAD)) == pytest.approx(1.3394, abs=1e-3)
    assert last(loads, rolling_ratio(LOAD)) == pytest.approx(1.6, abs=1e-3)
    assert last(loads, rolling_ratio(LOAD, coupled=False)) == pytest.approx(2.0, abs=1e-3)


def test_ewma_is_seeded_with_the_first_day_and_uses_2_over_n_plus_1() -> None:
    loads = [40.0, 0.0]
    assert last(loads[:1], acute_load(LOAD)) == 40.0
    assert last(loads, acute_load(LOAD)) == pytest.approx(40.0 * (1 - 2 / 8))
    assert last(loads, chronic_load(LOAD)) == pytest.approx(40.0 * (1 - 2 / 29))


def test_acwr_is_undefined_while_chronic_is_zero() -> None:
    frame = pl.DataFrame({"load": [0.0, 0.0, 10.0]}).select(acwr(LOAD).alias("x"))
    assert frame["x"].to_list()[:2] == [None, None]
    assert frame["x"][2] is not None


def test_monotony_and_strain_runalyze_vector() -> None:
    loads = [5.0, 15.0, 20.0, 20.0, 20.0, 25.0, 35.0]
    assert last(loads, monotony(LOAD)) == pytest.approx(2.366, abs=1e-3)
    assert last(loads, strain(LOAD)) == pytest.approx(331.3, abs=1e-1)


def test_monotony_uses_population_sd() -> None:
    loads = [0.0, 80.0, 40.0, 0.0, 90.0, 60.0, 80.0]
    mean = sum(loads) / 7
    population_sd = (sum((x - mean) ** 2 for x in loads) / 7) ** 0.5
    assert last(loads, monotony(LOAD)) == pytest.approx(mean / population_sd)
    assert last(loads, monotony(LOAD)) == pytest.approx(1.4265, abs=1e-3)


def test_identical_loads_cap_monotony_and_no_load_has_none() -> None:
    assert last([500.0] * 7, monotony(LOAD)) == MONOTONY_CAP
    assert pl.DataFrame({"load": [0.0] * 7}).select(monotony(LOAD))["load"][-1] is None
