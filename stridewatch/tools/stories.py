"""The seed's stories (``simulators/scenarios``) as a check on thresholds: is each ``[expect]`` still met?

``stridewatch validate --suggest`` may only propose thresholds under which every story
still gets what RULES.md expects of it (the restart runner still high with its four
reasons, the rope jumper's 1500 jumps still flagged, the steady runner still quiet). The
stories are generated once (a fixed last day and seed, as the scenario tests do), stored and
featured through the service's own path, then judged on the daily ``timeline``: a day's
level and the rules active on a day whose level is above low, as the alerts carry them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from functools import cache

import polars as pl

from ingest.store import Store
from scoring import Severity, Thresholds, timeline
from scoring.rules._rule import severity_column
from scoring.schemas import DAY_MS
from simulators import generate, list_scenarios, load_scenario
from simulators.scenario import Expect
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig
from stridewatch.tools.sending import store

STORY_END = date(2026, 11, 20)  # a fixed last day: which weekdays fill each 7-day window never changes
STORY_SEED = 1
BATCH_STEPS = 1000  # few large batches: the stories are parsed, not streamed


@dataclass(frozen=True, eq=False)
class Story:
    """One scenario's stored session features and pain reports, and what it expects."""

    name: str
    expect: Expect
    sessions: pl.DataFrame
    wellness: pl.DataFrame
    tz: str
    at: int


@cache
def seed_stories() -> tuple[Story, ...]:
    """Every shipped scenario with an ``[expect]``, generated, stored and featured once per process."""
    stories = []
    for name in list_scenarios():
        scenario = load_scenario(name)
        if scenario.expect is None:
            continue
        messages = list(generate(scenario, end=STORY_END, seed=STORY_SEED, batch_steps=BATCH_STEPS))
        with tempfile.TemporaryDirectory() as folder, Store(f"sqlite:///{folder}/{name}.db", synchronous="OFF") as db:
            store(messages, db.url)
            RiskEngine(db, TeamsConfig.default()).refresh_features()
            sessions, wellness = db.session_features(), db.pain()
        at = max(m.ts for m in messages) + DAY_MS  # the day after: holds that run out are seen to
        stories.append(Story(name, scenario.expect, sessions, wellness, scenario.timezone, at))
    return tuple(stories)


def story_failures(thresholds: Thresholds, stories: tuple[Story, ...] | None = None) -> list[str]:
    """What each story expects and no longer gets under ``thresholds``, in words; empty: all kept."""
    failures = []
    for story in seed_stories() if stories is None else stories:
        days = timeline(story.sessions, story.wellness, at=story.at, thresholds=thresholds, tz=story.tz)
        alerting = days.filter(pl.col("level") > int(Severity.LOW))
        raised = {r.rule_id for r in thresholds.rules() if (alerting[severity_column(r.rule_id)] > 0).any()}
        worst = Severity(days.select(pl.col("level").max()).item() or Severity.LOW)
        expect = story.expect
        if expect.min_level and worst < Severity[expect.min_level.upper()]:
            failures.append(f"{story.name}: reaches {worst.label}, expected at least {expect.min_level}")
        if expect.max_level and worst > Severity[expect.max_level.upper()]:
            failures.append(f"{story.name}: reaches {worst.label}, expected at most {expect.max_level}")
        failures += [f"{story.name}: {rule} is no longer raised" for rule in expect.rules if rule not in raised]
        failures += [f"{story.name}: {rule} is raised" for rule in expect.quiet if rule in raised]
    return failures
