"""Fleet mode: many athletes, many teams, a mix of the scenarios' profiles, deterministic."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

import pytest

from simulators import fleet, generate


def test_a_fleet_deals_athletes_into_teams_with_a_mix_of_profiles() -> None:
    scenario = fleet(40, teams=4, days=28, seed=5)
    assert len(scenario.athletes) == 40 and scenario.length_days == 28
    assert Counter(a.team for a in scenario.athletes) == {f"team-{t:02d}": 10 for t in range(4)}
    assert len({a.id for a in scenario.athletes}) == 40
    assert len({a.device.placement for a in scenario.athletes}) >= 3
    assert len({(a.profile.cadence_spm, a.profile.pace_min_per_km) for a in scenario.athletes}) == 40
    assert fleet(40, teams=4, days=28, seed=5) == scenario
    assert fleet(40, teams=4, days=28, seed=6) != scenario


def test_a_fleet_generates_valid_messages_in_event_time_order() -> None:
    messages = list(generate(fleet(12, teams=3, days=14, seed=2), start=date(2026, 3, 2), batch_steps=100))
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(messages))
    assert len({m.topic.split("/")[3] for m in messages}) >= 10  # nearly everyone trains in two weeks
    for m in messages[::7]:
        m.parse()


def test_a_mix_picks_only_the_scenarios_named() -> None:
    scenario = fleet(10, days=14, seed=1, mix={"daily_rope_500": 1.0})
    assert {a.sessions[0].activity for a in scenario.athletes} == {"jump_rope"}
    with pytest.raises(ValueError):
        fleet(10, mix={"daily_rope_500": 0.0})
