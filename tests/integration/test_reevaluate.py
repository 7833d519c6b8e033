"""Reasons that stand for days expire on the wall clock too: open alerts are re-scored as of now."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.consumer import ConsumerConfig
from ingest.records import Records, to_record
from ingest.store import Store
from simulators import generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.risk.pipeline import LIVE_IDLE_MS, RiskPipeline
from stridewatch.services.run import RunService
from stridewatch.teams import TeamsConfig
from tests.mqtt_helpers import Collector, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


def fed(tmp_path: Path, name: str, *, until: int | None = None) -> tuple[RiskPipeline, list[dict[str, Any]], int]:
    """A risk pipeline that has seen scenario ``name`` (up to event time ``until``); its alerts, and
    the last event time."""
    alerts: list[dict[str, Any]] = []
    store = Store(f"sqlite:///{tmp_path}/risk.db", synchronous="OFF")
    store.migrate()
    service = RiskPipeline(store, TeamsConfig.default(), lambda _t, body, _id: alerts.append(json.loads(body)))
    messages = [m for m in generate(name, end=SCENARIO_END, seed=3, batch_steps=100) if until is None or m.ts <= until]
    for start in range(0, len(messages), 100):
        records = Records()
        for m in messages[start : start + 100]:
            records.add(to_record(m.topic, m.payload, now_ms=m.ts, max_future_ms=DAY_MS))
        service.handle(store.write(records, received_at=messages[-1].ts))
    return service, alerts, max(m.ts for m in messages)


def test_an_open_alert_clears_when_its_reasons_have_run_out(tmp_path: Path) -> None:
    service, alerts, last = fed(tmp_path, "jump_rope_spike")
    assert alerts[-1]["state"] != "cleared", "the story ends with an open alert (pain and asymmetry)"
    published = len(alerts)
    service.reevaluate(last + 60_000)  # a minute later nothing has changed: nothing is published
    assert len(alerts) == published
    service.reevaluate(last + 8 * DAY_MS)  # every reason holds 7 days at most: the alert clears
    assert alerts[-1]["state"] == "cleared" and alerts[-1]["level"] == "low", alerts[-1]
    assert alerts[-1]["ts"] == last + 8 * DAY_MS
    service.reevaluate(last + 9 * DAY_MS)
    assert alerts[-1]["ts"] == last + 8 * DAY_MS  # cleared once


def test_a_live_session_whose_end_never_came_stops_counting(tmp_path: Path) -> None:
    sessions = [
        json.loads(m.payload) for m in generate("jump_rope_spike", end=SCENARIO_END, seed=3) if m.stream == "session"
    ]
    fifth = [s for s in sessions if s["event"] == "start"][4]
    end = next(s["ts"] for s in sessions if s["event"] == "end" and s["session_id"] == fifth["session_id"])
    service, alerts, last = fed(tmp_path, "jump_rope_spike", until=end - 1)  # the pod died before its end
    assert ("longest_session", "high") in {(r["rule"], r["severity"]) for r in alerts[-1]["reasons"]}
    service.reevaluate(last + LIVE_IDLE_MS // 2)
    assert ("longest_session", "high") in {(r["rule"], r["severity"]) for r in alerts[-1]["reasons"]}
    service.reevaluate(last + LIVE_IDLE_MS + 1)
    assert ("longest_session", "high") not in {(r["rule"], r["severity"]) for r in alerts[-1]["reasons"]}


def test_worn_shoes_stay_worn_however_long_nothing_comes(tmp_path: Path) -> None:
    service, alerts, last = fed(tmp_path, "worn_shoes")
    assert alerts[-1]["level"] == "high"
    service.reevaluate(last + 30 * DAY_MS)
    assert alerts[-1]["level"] == "high" and alerts[-1]["state"] != "cleared"


def test_the_service_reevaluates_on_its_own(own_broker: SpawnedMosquitto, tmp_path: Path) -> None:
    # History that ended weeks ago: as soon as it is stored, the wall clock says its pain is past.
    messages = list(generate("jump_rope_spike", end=SCENARIO_END, seed=3, batch_steps=500))
    assert datetime.now(UTC).date() - SCENARIO_END > timedelta(days=8)
    config = ConsumerConfig(mqtt_url=own_broker.url, db_url=f"sqlite:///{tmp_path}/run.db", client_id="reeval")
    service = RunService(config, TeamsConfig.default(), reevaluate_s=1.0)
    service.start()
    try:
        with Collector(own_broker.url, "stridewatch/v1/+/alerts/+") as coach:
            publish(messages, url=own_broker.url, progress=False)
            wait_until(
                lambda: any(
                    json.loads(p)["state"] == "cleared" and json.loads(p)["ts"] > time.time() * 1000 - 60_000
                    for _t, p, _r in coach.snapshot()
                ),
                timeout=120,
                what="the wall-clock re-evaluation clearing the story's alert",
            )
    finally:
        service.stop()
