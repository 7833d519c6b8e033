"""Scenario files are data a coach can write: loadable by name or path, with clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from simulators import ScenarioError, generate, load_scenario, parse_scenario

MINIMAL = """
name = "mine"
title = "A coach's own scenario"
team = "club"

[[athletes]]
id = "a-1"

[[athletes.sessions]]
days = [0, 13]
weekdays = ["tue", "thu"]
distance_m = [3000, 4000]
surface = ["grass", "asphalt"]
"""


def test_a_coach_writes_a_scenario_file_and_generates_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    scenario = load_scenario(path)
    assert scenario.length_days == 14 and scenario.athletes[0].device.placement == "shin"
    starts = [m.parse() for m in generate(path, start=date(2026, 3, 2)) if m.stream == "session"]
    surfaces = [s.surface for s in starts if s.event == "start"]  # type: ignore[union-attr]
    assert surfaces == ["grass", "asphalt", "grass", "asphalt"]  # two Tuesdays, two Thursdays, in turn


@pytest.mark.parametrize(
    ("change", "where", "why"),
    [
        (("surface = [", "surfase = ["), "athletes[0].sessions[0].surfase", "Extra inputs"),
        (('surface = ["grass", "asphalt"]', 'surface = "asfalt"'), "athletes[0].sessions[0].surface", "asfalt"),
        (("distance_m = [3000, 4000]", "jumps = 300"), "athletes[0].sessions[0]", "run session needs distance_m"),
        (("distance_m = [3000, 4000]", "distance_m = [4000, 3000]"), "sessions[0].distance_m", "[low, high]"),
        (('weekdays = ["tue", "thu"]', 'route = "everest"'), "sessions[0].route", "unknown route 'everest'"),
        (('team = "club"', 'team = "club one"'), "team", "pattern"),
        (("days = [0, 13]", "day = 3"), "athletes[0].sessions[0]", "every and weekdays belong to a block"),
    ],
)
def test_errors_name_the_file_the_field_and_the_reason(change: tuple[str, str], where: str, why: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(MINIMAL.replace(*change), source="mine.toml")
    assert "mine.toml" in str(caught.value) and where in str(caught.value) and why in str(caught.value)


def test_unknown_names_and_broken_toml_are_scenario_errors() -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope'; known: .*restart_runner"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        parse_scenario("name = ", source="x.toml")


def test_sessions_planned_on_top_of_each_other_are_refused() -> None:
    text = MINIMAL + '\n[[athletes.sessions]]\nday = 1\nat = "07:05"\ndistance_m = 20000\n'
    text = text.replace('days = [0, 13]\nweekdays = ["tue", "thu"]', "days = [0, 13]")
    with pytest.raises(ScenarioError, match=r"day 1 .*starts before the previous one"):
        list(generate(parse_scenario(text), start=date(2026, 3, 2)))
