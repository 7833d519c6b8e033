"""scoring.validation: the statistics, on hand-made frames and against slow re-implementations."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from scoring.schemas import DAY_MS
from scoring.validation import (
    INJURY,
    MIN_OUTCOMES,
    OUTCOMES,
    SORENESS,
    TOO_FEW_RAISES,
    athlete_weights,
    chance_draws,
    day_grid,
    measure,
    permutation_p_value,
    raise_days,
    relative_risk,
    risk_ratio,
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


def slow_baseline(days: pl.DataFrame, sessions: pl.DataFrame, reports: pl.DataFrame, level: int, horizon: int):  # type: ignore[no-untyped-def]
    """The days without a warning at ``level`` and those followed by a qualifying report, one day at a time."""
    ends = {(r["athlete"], (r["start_ts"] - T0) // DAY_MS): r["end_ts"] for r in sessions.iter_rows(named=True)}
    qualifying = [
        (r["athlete"], r["ts"]) for r in reports.iter_rows(named=True) if r["score"] >= 4 or r["kind"] == "sharp"
    ]
    quiet = [
        (r["athlete"], ends.get((r["athlete"], (r["day"] - FIRST_DAY).days), T0 + (r["day"] - FIRST_DAY).days * DAY_MS))
        for r in days.iter_rows(named=True)
        if r["r__severity"] < level
    ]
    followed = sum(any(a == b and 0 <= ts - t <= horizon * DAY_MS for b, ts in qualifying) for a, t in quiet)
    return len(quiet), followed


@pytest.mark.parametrize("seed", range(3))
def test_the_baseline_and_relative_risk_match_a_slow_implementation(seed: int) -> None:
    days, sessions, reports = random_team(np.random.default_rng(seed))
    table = validate(days, sessions, reports, rule_ids=["r"], rng=np.random.default_rng(0), horizon_days=7, draws=20)
    for level, severity in ((2, "moderate"), (3, "high")):
        row = table.filter(pl.col("severity") == severity).row(0, named=True)
        quiet, followed = slow_baseline(days, sessions, reports, level, 7)
        assert (row["quiet_days"], row["quiet_followed"]) == (quiet, followed)
        assert row["baseline_risk"] == pytest.approx(followed / quiet)
        assert row["relative_risk"] == pytest.approx(row["precision"] / (followed / quiet))


def test_each_athlete_drawn_once_gives_an_interval_of_no_width() -> None:
    # The spread comes from which athletes are drawn; drawn exactly as they are, every draw is the estimate.
    days, sessions, reports = random_team(np.random.default_rng(4))
    grid = day_grid(days, sessions, reports, horizon_days=7)
    severity = days["r__severity"].to_numpy()
    risk = relative_risk(raise_days(severity, grid.athlete, 2), severity < 2, grid, np.ones((5, grid.athletes)))
    assert risk.ratio is not None and risk.low == pytest.approx(risk.ratio) and risk.high == pytest.approx(risk.ratio)


def test_athletes_are_drawn_with_replacement_as_many_as_the_team_has() -> None:
    weights = athlete_weights(7, resamples=2000, rng=np.random.default_rng(0))
    assert weights.shape == (2000, 7) and (weights.sum(axis=1) == 7).all()
    assert weights.mean() == pytest.approx(1, abs=0.03) and (weights == 0).any() and (weights >= 2).any()


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([10, 5, 100, 10], 5.0),  # 50% after a raise, 10% otherwise
        ([10, 0, 100, 10], 0.0),
        ([10, 5, 100, 0], math.inf),  # no outcome without a warning: unbounded
        ([0, 0, 100, 10], math.nan),  # no raise: undefined
    ],
)
def test_risk_ratio(counts: list[int], expected: float) -> None:
    assert risk_ratio(np.array(counts)) == pytest.approx(expected, nan_ok=True)


def test_outcomes_select_their_reports() -> None:
    # One report per athlete, each its own episode: what each outcome counts is what its definition says.
    reports = [("ache", 5), ("sharp", 8), ("ache", 4), ("sharp", 2), ("soreness", 4), ("soreness", 6),
               ("soreness", 2), ("ache", 3)]  # fmt: skip
    names = [f"x{i}" for i in range(len(reports))]
    trained = {name: {0, 2} for name in names}
    frame = timeline_frame({name: [0, 2, 0, 0, 0] for name in names}, trained)
    pains = wellness(
        [pain(3, "knee", score, kind=kind, athlete=name) for name, (kind, score) in zip(names, reports, strict=True)]
    )
    counted = {}
    for outcome in OUTCOMES.values():
        table = validate(frame, sessions_on(trained), pains, rule_ids=["r"], rng=np.random.default_rng(0), draws=20,
                         outcome=outcome)  # fmt: skip
        counted[outcome.name] = table.select("episodes", "followed").row(0)
    # any: score >= 4 or sharp; injury: ache or sharp with score >= 5; soreness: soreness with score >= 4.
    assert counted == {"any": (6, 6), "injury": (2, 2), "soreness": (2, 2)}
    assert pains.filter(INJURY.qualifying())["kind"].to_list() == ["ache", "sharp"]
    assert pains.filter(SORENESS.qualifying())["score"].to_list() == [4, 6]


def squad(
    rng: np.random.Generator, *, effect: float, athletes: int = 40, days: int = 120, horizon: int = 14
) -> tuple[pl.DataFrame, ...]:
    """A simulated squad: the rule warns each athlete on random days, at the athlete's own rate (5% of
    days on average, exponentially spread), and each athlete has their own daily hazard of an injury
    report (0.6% on average, likewise spread), ``effect`` times higher for the ``horizon`` days after a
    warning. Athletes differ, and one report follows every warning of the weeks before it: the days
    of one athlete are not independent."""
    severities, trained, reports = {}, {}, []
    for i in range(athletes):
        name = f"x{i:02d}"
        trained[name] = set(np.flatnonzero(rng.random(days) < 0.5).tolist())
        warned = rng.random(days) < 0.05 * rng.exponential()
        severities[name] = (warned * 2).tolist()
        hazard = np.full(days, 0.006 * rng.exponential())
        for d in np.flatnonzero(warned):
            hazard[d + 1 : d + 1 + horizon] *= effect
        injured = np.flatnonzero(rng.random(days) < np.minimum(hazard, 1.0))
        reports += [pain(int(d), "knee", 5, athlete=name) for d in injured]
    return timeline_frame(severities, trained), sessions_on(trained), wellness(reports)


def squad_risk(seed: int, *, effect: float) -> dict[str, object]:
    days, sessions, reports = squad(np.random.default_rng(seed), effect=effect)
    table = validate(days, sessions, reports, rule_ids=["r"], rng=np.random.default_rng(seed), draws=20,
                     resamples=300, outcome=INJURY)  # fmt: skip
    row: dict[str, object] = table.row(0, named=True)
    return row


@pytest.mark.parametrize("seed", range(3))
def test_a_rule_that_raises_the_risk_has_an_interval_above_1(seed: int) -> None:
    row = squad_risk(seed, effect=5.0)
    assert row["judged"] and row["episodes"] >= MIN_OUTCOMES  # type: ignore[operator]
    assert 1 < row["rr_low"] < row["relative_risk"] < row["rr_high"], row  # type: ignore[operator]
    assert str(row["verdict"]).startswith("beats chance"), row["verdict"]


def test_a_rule_with_no_effect_has_an_interval_holding_1_in_95_percent_of_squads() -> None:
    rows = [squad_risk(seed, effect=1.0) for seed in range(40)]
    assert all(r["judged"] for r in rows)
    held = [r["rr_low"] <= 1 <= (math.inf if r["rr_high"] is None else r["rr_high"]) for r in rows]  # type: ignore[operator]
    assert sum(held) >= 38, rows


def test_the_interval_counts_athletes_not_days() -> None:
    # Were every raise and day an independent trial, the usual interval of a ratio of two shares
    # (Katz 1978, Biometrics 34:469) would do; but one report follows every warning of the weeks
    # before it, and athletes differ, so resampling athletes finds the ratio less certain.
    widths = []
    for seed in range(5):
        row = squad_risk(seed, effect=1.0)
        a, n1, c, n0 = (int(row[k]) for k in ("followed", "raises", "quiet_followed", "quiet_days"))  # type: ignore[call-overload]
        katz = 2 * 1.96 * math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
        widths.append(math.log(row["rr_high"] / row["rr_low"]) / katz)  # type: ignore[operator]
    assert min(widths) > 1 and np.mean(widths) > 1.3, widths


def test_one_athlete_cannot_be_resampled() -> None:
    days, sessions, reports = random_team(np.random.default_rng(5), athletes=1, days=200)
    row = validate(days, sessions, reports, rule_ids=["r"], rng=np.random.default_rng(0), horizon_days=3, draws=20).row(
        0, named=True
    )
    assert row["judged"] and row["relative_risk"] is not None
    assert row["rr_low"] is None and row["rr_high"] is None


def test_too_few_outcomes_are_too_few_to_judge() -> None:
    days, sessions, reports = squad(np.random.default_rng(0), effect=5.0, athletes=4, days=60)
    table = validate(days, sessions, reports, rule_ids=["r"], rng=np.random.default_rng(0), draws=20, outcome=INJURY)
    row = table.row(0, named=True)
    assert 0 < row["episodes"] < MIN_OUTCOMES and row["raises"] > 0 and not row["judged"]
    assert row["verdict"] == f"too few injuries to judge: {row['episodes']} in the data, {MIN_OUTCOMES} needed"


def test_too_few_raises_are_too_few_to_tell() -> None:
    days, sessions, reports = squad(np.random.default_rng(0), effect=1.0)
    rare = days.with_columns(r__severity=pl.when(pl.int_range(pl.len()) % 1000 == 7).then(2).otherwise(0).cast(pl.Int8))
    row = validate(rare, sessions, reports, rule_ids=["r"], rng=np.random.default_rng(0), draws=20, outcome=INJURY).row(
        0, named=True
    )
    assert row["episodes"] >= MIN_OUTCOMES and 0 < row["raises"] < TOO_FEW_RAISES and not row["beats_chance"]
    assert not row["judged"] and str(row["verdict"]).startswith("too few raises to tell")
    assert row["relative_risk"] is not None and row["rr_low"] is None and row["rr_high"] is None  # a handful of raises


def test_without_outcomes_nothing_is_judged_and_no_ratio_is_made_up() -> None:
    days, sessions, _ = squad(np.random.default_rng(0), effect=1.0, athletes=10, days=60)
    table = validate(days, sessions, wellness(), rule_ids=["r"], rng=np.random.default_rng(0), draws=20)
    row = table.row(0, named=True)
    assert (row["episodes"], row["followed"], row["quiet_followed"], row["judged"]) == (0, 0, 0, False)
    assert row["relative_risk"] is None and row["rr_low"] is None and row["rr_high"] is None
    assert row["verdict"].startswith("too few pain episodes to judge: 0 in the data")
