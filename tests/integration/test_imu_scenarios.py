"""The seed's rope jumper replayed as raw pod data raises the alerts of her step version.

Both go through the service's own path in-process (`test_scenarios_scored.replay`:
validation, the store, which detects the raw batches' steps in its transaction, features,
the live evaluator, scoring, the alert lifecycle); only MQTT is left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.store import Store
from tests.integration.test_scenarios_scored import replay
from tests.scenario_expectations import check

pytestmark = pytest.mark.integration


def story(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(a["level"], a["state"], sorted((r["rule"], r["severity"]) for r in a["reasons"])) for a in alerts]


def stored_steps(db: Path) -> int:
    with Store(f"sqlite:///{db}") as store:
        return sum(s.steps for s in store.stats())


def test_jump_rope_spike_as_raw_data_raises_the_alerts_of_its_step_version(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    (tmp_path / "raw").mkdir()
    as_steps = replay("jump_rope_spike", tmp_path / "steps")
    as_raw = replay("jump_rope_spike", tmp_path / "raw", imu=True)
    model, detected = (stored_steps(tmp_path / kind / "jump_rope_spike.db") for kind in ("steps", "raw"))
    assert abs(detected - model) <= 0.01 * model
    check("jump_rope_spike", as_raw.alerts)
    assert story(as_raw.alerts) == story(as_steps.alerts)
    assert any(r["rule"] == "asymmetry" for a in as_raw.alerts for r in a["reasons"])  # L/R from the raw signal
