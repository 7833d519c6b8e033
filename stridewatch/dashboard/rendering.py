"""The Jinja2 environment the dashboard and the weekly report share: templates, CSS, filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2

from scoring.thresholds import DEFAULT_THRESHOLDS, RULE_IDS
from stridewatch.teams import TeamsConfig

HERE = Path(__file__).parent
STATIC = HERE / "static"


def environment(teams: TeamsConfig) -> jinja2.Environment:
    """Templates in ``templates/``, autoescaped; times shown in each team's time zone."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )

    def when(ts: int | None, team: str) -> str:
        """``2026-11-20 06:31`` in the team's time zone."""
        if ts is None:
            return "-"
        return datetime.fromtimestamp(ts / 1000, teams.team(team).timezone).strftime("%Y-%m-%d %H:%M")

    env.globals["when"] = when
    # Why a rule's default grade is what it is: a coach weighs a reason by its grounds.
    env.globals["evidence"] = {rule: DEFAULT_THRESHOLDS.rule(rule).evidence for rule in RULE_IDS}
    env.filters["km"] = lambda metres: "-" if metres is None else f"{metres / 1000:.1f} km"
    env.filters["minutes"] = lambda seconds: "-" if seconds is None else f"{seconds / 60:.0f} min"
    return env


def stylesheet() -> str:
    """The dashboard's CSS, for the report to inline."""
    return (STATIC / "style.css").read_text()
