"""scoring.validation: the statistics, on hand-made frames and against slow re-implementations."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from scoring.schemas import DAY_MS
from scoring.validation import (
    chance_draws,
    day_grid,
    measure,
    permutation_p_value,
    raise_days,
    validate,
    wilson_interval,
)
from tests.unit.scoring.builders import T0, day_ts, feature, features, pain, wellness

FIRST_DAY = date(2026, 1, 1)  # T0's day
SESSION_MS = 30 * 60_000  # builders.feature's sessions last 30 minutes


def timeline_frame(severities: dict[str, list[int]], trained: dict[str, set[int]]) -> pl.DataFrame:
    """A stand-in timeline: rule ``r``'s severity per athlete and day, sessions on the ``trained`` days."""
    rows = [
        ("t", athlete, FIRST_DAY + timedelta(days=d), int(d in trained[athlete]), s)
        for athlete, values in severities.items()
        for d, s in enumerate(values)
    ]
    return pl.DataFrame(
        rows, schema={"team": pl.String, "athlete": pl.String, "day": pl.Date, "n_sessions": pl.Int64,
                      "r__severity": pl.Int8}, orient="row",
    )  # fmt: skip


def sessions_on(trained: dict[str, set[int]]) -> pl.DataFrame:
    return features([feature(d, 1000, athlete=a) for a, days in trained.items() for d in sorted(days)])


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (81, 263), (1, 2000)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    low, high = wilson_interval(np.array([k]), np.array([n]))
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low[0] == pytest.approx(expected.low, abs=1e-9) and high[0] == pytest.approx(expected.high, abs=1e-9)


def test_wilson_holds_its_estimate_at_every_count() -> None:
    # At 0 or n successes rounding left the bound a hair past k/n (0.9999999999999999 at 10/10),
    # and `validate --plot` drew a negative error bar from it.
    n = np.repeat(np.arange(1, 301), 3)
    k = np.stack([np.zeros(300), np.arange(1, 301) // 2, np.arange(1, 301)]).T.ravel()
    low, high = wilson_interval(k, n)
    p = k / n
    assert (low <= p).all() and (p <= high).all() and (low >= 0).all() and (high <= 1).all()
    assert (low[k == 0] == 0).all() and (high[k == n] == 1).all()


def test_wilson_of_nothing_is_undefined() -> None:
    assert np.isnan(wilson_interval(np.array([0]), np.array([0]))).all()


def test_permutation_p_value_counts_the_observation_as_a_draw() -> None:
    draws = np.array([0.1, 0.2, 0.3, 0.4])
    assert permutation_p_value(0.3, draws) == (1 + 2) / (1 + 4)
    assert permutation_p_value(0.9, draws) == 1 / 5


def test_precision_recall_and_lead_time_by_hand() -> None:
    # a trains on even days; the rule is moderate on days 4-5 and high on day 20. Pain 5/10 on
    # day 10 and 12 (one episode), 2/10 on day 8 (not pain worth a warning).
    # b trains daily; moderate on day 3 from its session, but sharp pain came that morning,
    # before it; pain again on day 25, a new episode with no warning.
    a = [0] * 30
    a[4] = a[5] = 2
    a[20] = 3
    b = [0] * 30
    b[3] = 2
    trained = {"a": set(range(0, 30, 2)), "b": set(range(30))}
    reports = wellness([pain(10, "knee", 5), pain(12, "knee", 5), pain(8, "calf", 2),
                        pain(3, "shin", 3, kind="sharp", athlete="b", hour=6.0), pain(25, "hip", 6, athlete="b")])  # fmt: skip
    table = validate(timeline_frame({"a": a, "b": b}, trained), sessions_on(trained), reports, rule_ids=["r"],
                     rng=np.random.default_rng(0), draws=50)  # fmt: skip
    moderate, high = table.filter(pl.col("severity") == "moderate"), table.filter(pl.col("severity") == "high")
    # Raises at >= moderate: a on days 4 and 20, b on day 3; only a's day 4 was followed (day 10).
    assert moderate.select("raises", "followed", "episodes", "caught").row(0) == (3, 1, 3, 1)
    assert moderate["precision"][0] == pytest.approx(1 / 3) and moderate["recall"][0] == pytest.approx(1 / 3)
    lead = (day_ts(10, 20.0) - (day_ts(4) + SESSION_MS)) / DAY_MS
    assert moderate["median_lead_days"][0] == pytest.approx(lead)
    assert high.select("raises", "followed", "caught").row(0) == (1, 0, 0)


def test_a_rule_that_never_raised_has_one_row_saying_so() -> None:
    trained = {"a": {0, 2}}
    table = validate(timeline_frame({"a": [0, 0, 0]}, trained), sessions_on(trained), wellness(), rule_ids=["r"],
                     rng=np.random.default_rng(0), draws=20)  # fmt: skip
    assert table.select("severity", "raises", "verdict").row(0) == (None, 0, "never raised")


def random_team(rng: np.random.Generator, athletes: int = 6, days: int = 70) -> tuple[pl.DataFrame, ...]:
    severities, trained, reports = {}, {}, []
    for i in range(athletes):
        name = f"x{i}"
        trained[name] = {d for d in range(days) if rng.random() < 0.5}
        severities[name] = [int(s) for s in rng.choice([0, 0, 0, 0, 2, 3], days)]
        for d in range(days):
            if rng.random() < 0.08:
                reports.append(pain(d, "knee", int(rng.integers(1, 8)), athlete=name, hour=float(rng.uniform(0, 24)),
                                    kind="sharp" if rng.random() < 0.1 else "ache"))  # fmt: skip
    return timeline_frame(severities, trained), sessions_on(trained), wellness(reports)


def slow_measure(days: pl.DataFrame, sessions: pl.DataFrame, reports: pl.DataFrame, level: int, horizon: int):  # type: ignore[no-untyped-def]
    """The definitions of the module docstring, one raise and one report at a time."""
    ends = {(r["athlete"], (r["start_ts"] - T0) // DAY_MS): r["end_ts"] for r in sessions.iter_rows(named=True)}
    raises = []
    for athlete, rows in days.sort("athlete", "day").group_by("athlete", maintain_order=True):
        before = 0
        for r in rows.iter_rows(named=True):
            d = (r["day"] - FIRST_DAY).days
            if r["r__severity"] >= level > before:
                raises.append((athlete[0], ends.get((athlete[0], d), T0 + d * DAY_MS)))
            before = r["r__severity"]
    qualifying = sorted(
        (r["athlete"], r["ts"]) for r in reports.iter_rows(named=True) if r["score"] >= 4 or r["kind"] == "sharp"
    )
    followed = sum(any(a == b and 0 <= ts - t <= horizon * DAY_MS for b, ts in qualifying) for a, t in raises)
    onsets = [
        (a, ts) for a, ts in qualifying if not any(b == a and 0 < ts - t <= horizon * DAY_MS for b, t in qualifying)
    ]
    leads = []
    for a, ts in onsets:
        warned = [t for b, t in raises if b == a and 0 <= ts - t <= horizon * DAY_MS]
        if warned:
            leads.append((ts - min(warned)) / DAY_MS)
    return len(raises), followed, len(onsets), sorted(leads)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", [2, 3])
def test_counts_match_a_slow_implementation_of_the_definitions(seed: int, level: int) -> None:
    days, sessions, reports = random_team(np.random.default_rng(seed))
    grid = day_grid(days, sessions, reports, horizon_days=7)
    found = measure(raise_days(days["r__severity"].to_numpy(), grid.athlete, level), grid)
    raises, followed, episodes, leads = slow_measure(days, sessions, reports, level, 7)
    assert (found.raises, found.followed, grid.episodes, found.caught) == (raises, followed, episodes, len(leads))
    assert sorted(found.lead_days) == pytest.approx(leads)


def test_the_chance_baseline_averages_what_random_days_of_each_stratum_give() -> None:
    days, sessions, reports = random_team(np.random.default_rng(11), athletes=8, days=90)
    grid = day_grid(days, sessions, reports, horizon_days=7)
    raised = raise_days(days["r__severity"].to_numpy(), grid.athlete, 2)
    ((precisions, recalls),) = chance_draws([raised], grid, draws=2000, rng=np.random.default_rng(3))
    # A raise moved to a uniform day of its stratum is followed with that stratum's share.
    expected = (
        sum(raised[grid.stratum == s].sum() * grid.followed[grid.stratum == s].mean() for s in np.unique(grid.stratum))
        / raised.sum()
    )
    assert abs(precisions.mean() - expected) < 4 * precisions.std() / np.sqrt(len(precisions))
    assert 0 < recalls.mean() < 1
