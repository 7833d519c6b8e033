"""Each shipped scenario carries, in raw terms, what RULES.md's scenario table expects of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from simulators import list_scenarios, load_scenario
from tests.unit.simulators.conftest import START, messages_of, sessions_of
from tests.unit.simulators.measures import (
    HARD,
    daily_loads,
    descent_share,
    ewma_acwr,
    session_loads,
    spike_ratios,
    symmetry_index,
    thirds,
    warmup_ratios,
    wellness,
)


def day_of(ts: int) -> date:
    return datetime.fromtimestamp(ts / 1000, UTC).date()


TABLE = [
    "restart_runner",
    "jump_rope_spike",
    "steady_runner",
    "daily_rope_500",
    "doms_normal",
    "worn_shoes",
    "overtrained",
]


def test_every_row_of_the_rules_table_is_shipped_with_its_expectation() -> None:
    assert sorted(TABLE) == list_scenarios()
    for name in TABLE:
        expect = load_scenario(name).expect
        assert expect is not None and (expect.rules or expect.max_level or expect.quiet), name


def test_restart_runner_runs_every_morning_downhill_on_asphalt_without_warming_up() -> None:
    messages = messages_of("restart_runner")
    runs = sessions_of("restart_runner")
    history, restart = runs[:2], runs[2:]
    assert (restart[0].day - history[-1].day).days >= 21  # weeks of nothing before the restart
    days = [(s.day - restart[0].day).days for s in restart]
    assert days == list(range(6))  # six mornings running, no rest day
    for s in restart:
        assert s.start["surface"] == "asphalt" and s.start["activity"] == "run"
        assert 950 <= s.end["distance_m"] <= 1100
        assert s.start["ts"] % 86_400_000 < 6 * 3_600_000  # before 09:00 in Kyiv
        assert descent_share(s) > 0.35
        cadence, impact = warmup_ratios(s)
        assert cadence >= 0.9 and impact >= 0.9  # no easy first minutes
    reports = wellness(messages)
    sites_by_day = {
        (day_of(r["ts"]) - restart[0].day).days: {p["site"] for p in r["pain"] if p["score"] >= 3} for r in reports
    }
    assert min(sites_by_day) == 3  # from the fourth morning
    assert max(sites_by_day) - min(sites_by_day) > 5  # past day 5
    assert all(sites >= {"calf", "knee"} for sites in sites_by_day.values())
    assert (restart[3].day - runs[0].day).days < 42  # under six weeks of history when it hurts


def test_jump_rope_spike_jumps_400_400_700_500_then_1500_and_flags_before_the_end() -> None:
    messages_of("jump_rope_spike")
    rope = sessions_of("jump_rope_spike")
    assert [len(s.rows) for s in rope[:5]] == [400, 400, 700, 500, 1500]
    assert all(s.start["activity"] == "jump_rope" for s in rope)
    assert spike_ratios(rope)[3] > 2.0  # longest_session high for the 1500
    loads = session_loads(rope)
    cumulative = np.cumsum(loads[4])
    biggest_before = max(load.sum() for load in loads[:4])
    assert np.argmax(cumulative > 2 * biggest_before) < 1450  # ...while the session still runs
    fast, harder = thirds(rope[4])
    assert fast <= -0.05 and harder >= 0.10  # 1500 jumps: form breaks down late


def test_jump_rope_spike_reports_sharp_achilles_pain_then_lands_softer_on_that_side() -> None:
    messages = messages_of("jump_rope_spike")
    rope = sessions_of("jump_rope_spike")
    end_of_spike = rope[4].end["ts"]
    first_report = wellness(messages)[0]
    assert first_report["ts"] > end_of_spike
    assert any(p["site"] == "achilles" and p["kind"] == "sharp" and p["score"] >= 7 for p in first_report["pain"])
    before, after = [symmetry_index(s) for s in rope[:5]], [symmetry_index(s) for s in rope[5:]]
    assert len(after) >= 2
    assert 1 <= np.mean(before) <= 5 and max(before) < 8  # the usual 2-5 %
    assert min(after) > 20  # compensation


def test_steady_runner_three_mixed_warm_flat_runs_a_week_at_a_steady_load() -> None:
    messages = messages_of("steady_runner")
    runs = sessions_of("steady_runner")
    assert (runs[-1].day - runs[0].day).days >= 49 and len(runs) >= 24
    assert not wellness(messages)
    for s in runs:
        assert 4000 <= s.end["distance_m"] <= 5100
        cadence, impact = warmup_ratios(s)
        assert cadence < 0.9 and impact < 0.9  # warms up
        assert descent_share(s) < 0.02
    for first in range(len(runs) - 2):
        week = [s for s in runs if 0 <= (s.day - runs[first].day).days < 7]
        assert len(week) <= 3
        assert sum(len(s.rows) for s in week if s.start["surface"] in HARD) < 0.5 * sum(len(s.rows) for s in week)
    assert max(spike_ratios(runs)) < 1.4  # no session far bigger than the last few, whatever comes first
    loads = daily_loads(runs)
    weeks = loads[: len(loads) // 7 * 7].reshape(-1, 7).sum(axis=1)
    assert np.all(np.abs(weeks[1:] / weeks[:-1] - 1) < 0.15)  # no weekly ramp
    assert ewma_acwr(loads)[21:].max() < 1.3


def test_daily_rope_500_every_day_for_months_without_pain() -> None:
    messages = messages_of("daily_rope_500")
    rope = sessions_of("daily_rope_500")
    days = [(s.day - rope[0].day).days for s in rope]
    assert days == list(range(len(rope))) and len(rope) >= 70
    assert {len(s.rows) for s in rope} == {500}
    assert not wellness(messages)


def test_doms_normal_soreness_peaks_the_two_days_after_the_hard_session_and_is_gone_by_day_3() -> None:
    messages = messages_of("doms_normal")
    runs = sessions_of("doms_normal")
    hard = max(runs, key=descent_share)
    assert descent_share(hard) > 0.1 and hard.column("impact_g").mean() > 1.1 * runs[0].column("impact_g").mean()
    after = {(day_of(r["ts"]) - hard.day).days: r for r in wellness(messages)}
    assert sorted(after) == [1, 2, 3]
    for day in (1, 2):
        assert all(3 <= p["score"] <= 5 and p["kind"] == "soreness" for p in after[day]["pain"])
    assert all(p["score"] <= 2 for p in after[3]["pain"])
    assert len([s for s in runs if s.day > hard.day]) >= 4  # training goes on
    assert max(spike_ratios(runs)) < 1.5  # planned: harder, not much bigger


def test_worn_shoes_one_pair_passes_800_km() -> None:
    runs = sessions_of("worn_shoes")
    by_shoe: dict[str, float] = {}
    for s in runs:
        by_shoe[s.start["shoe_id"]] = by_shoe.get(s.start["shoe_id"], 0) + s.end["distance_m"]
    assert max(by_shoe.values()) > 800_000
    assert (runs[-1].day - runs[0].day) < timedelta(days=180)  # worn by distance, not by age
    assert np.isnan(runs[0].column("impact_g")).all()  # a cadence-only watch


def test_overtrained_acute_load_far_above_chronic_three_weeks_running() -> None:
    runs = sessions_of("overtrained")
    loads = daily_loads(runs)
    acwr = ewma_acwr(loads)
    weekly_peak = [acwr[w : w + 7].max() for w in range(28, len(acwr) - 6, 7)]
    above = [peak > 1.3 for peak in weekly_peak]
    assert any(all(above[i : i + 3]) for i in range(len(above) - 2)), weekly_peak
    base, overload = loads[:28].sum() / 4, loads[-7:].sum()
    assert overload > 3 * base


@pytest.mark.parametrize("name", TABLE)
def test_day_0_is_the_start_date(name: str) -> None:
    first = sessions_of(name)[0]
    assert timedelta(0) <= first.day - START < timedelta(days=7)
