"""`stridewatch assess`: the service's own scoring, as of any event time, as a table or as alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.payloads import Alert
from stridewatch.cli import app
from tests.integration.test_scenarios_scored import END, replay

pytestmark = pytest.mark.integration


def test_assess_what_if_at_two_times(tmp_path: Path) -> None:
    replay("jump_rope_spike", tmp_path)
    db = f"sqlite:///{tmp_path}/jump_rope_spike.db"
    runner = CliRunner()
    before = runner.invoke(app, ["assess", "--db", db, "--at", "2026-10-01", "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.output) == []  # nothing happened yet
    after = runner.invoke(app, ["assess", "--db", db, "--at", END.isoformat(), "--json"])
    assert after.exit_code == 0, after.output
    (athlete,) = json.loads(after.output)
    Alert.model_validate(athlete | {"state": "raised", "alert_id": "x"})
    assert athlete["athlete"] == "rope-jumper" and athlete["level"] in ("moderate", "high", "critical")
    table = runner.invoke(app, ["assess", "--db", db, "--at", END.isoformat()])
    assert table.exit_code == 0 and "rope-jumper" in table.output and athlete["level"].upper() in table.output
