"""`stridewatch validate` on a team's data: a team without outcomes is told so in a line and gets no
suggestion; `--suggest` touches only the rules the data can judge."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date
from functools import cache

import polars as pl
import pytest
from rich.console import Console

from scoring.schemas import WELLNESS_SCHEMA
from scoring.tuning import suggest
from scoring.validation import ANY, INJURY, MIN_OUTCOMES, Outcome
from simulators.cohort import Cohort, cohort
from stridewatch.teams import TeamsConfig
from stridewatch.tools import validate as tool
from stridewatch.tools.validate import TeamData, TeamValidation, as_json, print_tables, suggest_team, suggestions_toml


@cache
def runs() -> Cohort:
    return cohort(20, days=70, end=date(2026, 6, 30), seed=0)


def team_data(wellness: pl.DataFrame) -> TeamData:
    features = runs().features
    at = int(features["end_ts"].max()) + 1  # type: ignore[arg-type]
    return TeamData(TeamsConfig.default().team("cohort-00"), features, wellness, at)


def measured(wellness: pl.DataFrame, outcome: Outcome = INJURY) -> tuple[TeamData, TeamValidation]:
    data = team_data(wellness)
    return data, tool.validate_team(data, horizon_days=14, draws=20, seed=0, outcome=outcome)


def printed(result: TeamValidation) -> str:
    console = Console(width=400, record=True, file=io.StringIO())
    print_tables([result], console)
    return console.export_text()


def no_stories(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's stories are checked in the integration tests; here every threshold passes them."""
    monkeypatch.setattr(tool, "story_failures", lambda _: [])


def test_without_outcomes_validate_says_so_in_a_line_and_suggests_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    no_stories(monkeypatch)
    data, result = measured(pl.DataFrame(schema=WELLNESS_SCHEMA))
    assert result.episodes == 0 and not result.judged_rules()
    # The rules did raise: unguarded, the tuning "keeps" the nothing they caught and mutes them.
    assert result.table.filter(pl.col("rule") == "longest_session")["raises"].sum() > 0
    assert suggest(data.sessions, data.wellness, thresholds=data.config.thresholds, at=data.at)

    text = printed(result)
    assert text.strip().splitlines() == [f"cohort-00: no injuries in the data (ache or sharp, score 5+): nothing to "
                                         f"judge the rules against (20 athletes, {result.days:,} athlete-days)."]  # fmt: skip
    assert suggest_team(data, result, advance=lambda: None) == []
    toml = suggestions_toml([result], {"cohort-00": []}, horizon_days=14)
    assert "[teams." not in toml and "# cohort-00: no injuries in the data" in toml
    (team,) = json.loads(as_json([result]))
    assert (team["outcome"], team["episodes"]) == ("injury", 0) and team["unjudged"].startswith("no injuries")


def test_with_too_few_outcomes_every_rule_says_so_and_nothing_is_suggested(monkeypatch: pytest.MonkeyPatch) -> None:
    no_stories(monkeypatch)
    injuries = runs().wellness().filter(INJURY.qualifying()).sort("ts").head(3)
    data, result = measured(injuries)
    assert 0 < result.episodes < MIN_OUTCOMES
    raised = result.table.filter(pl.col("raises") > 0)
    assert raised.height and not raised["judged"].any()
    assert raised["verdict"].str.starts_with("too few injuries to judge").all()
    text = printed(result)
    assert "too few injuries to judge" in text and "beats chance: " not in text
    assert suggest_team(data, result, advance=lambda: None) == []
    assert f"too few injuries to judge: {result.episodes} in the data" in suggestions_toml(
        [result], {"cohort-00": []}, horizon_days=14
    )


def test_suggestions_change_only_the_rules_the_data_can_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    no_stories(monkeypatch)
    data, result = measured(runs().wellness(), outcome=ANY)
    assert result.episodes >= MIN_OUTCOMES
    every = suggest_team(data, result, advance=lambda: None)
    assert len({s.rule for s in every}) >= 2, every
    one = every[0].rule
    only = dataclasses.replace(
        result, table=result.table.with_columns(judged=pl.col("judged") & (pl.col("rule") == one))
    )
    assert {s.rule for s in suggest_team(data, only, advance=lambda: None)} == {one}
