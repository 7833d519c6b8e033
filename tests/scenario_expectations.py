"""RULES.md's scenario table, as each scenario file's ``[expect]`` states it, checked on alerts."""

from __future__ import annotations

from datetime import date
from typing import Any

from simulators import load_scenario

RANK = {"low": 0, "moderate": 1, "high": 2, "critical": 3}
# Scenarios are judged on a fixed last day: which weekdays fall into each 7-day window must not
# change with the day the suite runs (tests/integration/test_scenarios_scored.py sweeps the
# last day to show the verdicts do not depend on it).
SCENARIO_END = date(2026, 11, 20)


def check(name: str, alerts: list[dict[str, Any]]) -> None:
    """Assert that the alerts raised for scenario ``name``'s athletes meet its expectations."""
    expect = load_scenario(name).expect
    worst = max((RANK[a["level"]] for a in alerts), default=0)
    raised = {r["rule"] for a in alerts for r in a["reasons"]}
    if expect.min_level:
        assert worst >= RANK[expect.min_level], f"{name}: worst level {worst}; last alerts {alerts[-3:]}"
    if expect.max_level:
        over = [a for a in alerts if RANK[a["level"]] > RANK[expect.max_level]]
        assert not over, f"{name}: above {expect.max_level}: {over[:2]}"
    assert set(expect.rules) <= raised, f"{name}: missing {set(expect.rules) - raised}"
    assert not set(expect.quiet) & raised, f"{name}: raised {set(expect.quiet) & raised}"
    assert all(a["state"] in ("raised", "updated", "cleared") for a in alerts)
