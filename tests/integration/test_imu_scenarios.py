"""The seed's rope jumper replayed as raw pod data raises the alerts of her step version.

Both go through the service's own path in-process (validation, the store, which detects the
raw batches' steps in its transaction, features, the live evaluator, scoring, the alert
lifecycle); only MQTT is left out, as in test_scenarios_scored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.records import Records, to_record
from ingest.store import Store
from simulators import generate
from stridewatch.service import RiskService
from stridewatch.teams import TeamsConfig
from tests.scenario_expectations import check

pytestmark = pytest.mark.integration
END = datetime(2026, 11, 20, tzinfo=UTC).date()


def alerts(db: Path, *, imu: bool) -> tuple[list[dict[str, Any]], int]:
    """The alerts published while the scenario streams (as steps, or as raw pod data), and the steps stored."""
    messages = generate("jump_rope_spike", end=END, seed=1, batch_steps=None if imu else 50, imu=imu)
    store = Store(f"sqlite:///{db}", synchronous="OFF")
    store.migrate()
    out: list[dict[str, Any]] = []
    service = RiskService(store, TeamsConfig.default(), lambda _topic, payload: out.append(json.loads(payload)))
    now = int(datetime.now(UTC).timestamp() * 1000)
    for message in messages:
        records = Records()
        records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=0))
        assert not records.dead, records.dead
        store.write(records, received_at=now)
        service.handle(records)
    steps = store.stats()[0].steps
    store.close()
    return out, steps


def test_jump_rope_spike_as_raw_data_raises_the_alerts_of_its_step_version(tmp_path: Path) -> None:
    as_steps, model_steps = alerts(tmp_path / "steps.db", imu=False)
    as_raw, detected_steps = alerts(tmp_path / "raw.db", imu=True)
    assert abs(detected_steps - model_steps) <= 0.01 * model_steps
    check("jump_rope_spike", as_raw)

    def story(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(a["level"], a["state"], sorted((r["rule"], r["severity"]) for r in a["reasons"])) for a in found]

    assert story(as_raw) == story(as_steps)
    assert any(r["rule"] == "asymmetry" for a in as_raw for r in a["reasons"])  # L/R from the raw signal
