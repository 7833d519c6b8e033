"""A pod that reboots mid-week starts its counter at 0 again in its next session (issue 22): every step
is stored, none is dead-lettered, and the rules judge the week as if it had not rebooted, on both
stores, through `stridewatch run` over a real broker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.records import Records, to_record
from ingest.store import Store
from simulators import Message, generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.risk.engine import RiskEngine
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.teams import TeamsConfig
from tests.ingest_counts import start_ingest
from tests.integration.test_faults_differential import settled, worst_rules
from tests.mqtt_helpers import wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
SCENARIOS = ("jump_rope_spike", "overtrained")  # a live spike in its last week; a steady build of strain


def rebooted(messages: list[Message], *, after_ts: int) -> list[Message]:
    """Each pod's counter back to 0 at its first session starting after ``after_ts``, then one up per batch."""
    restart_at: dict[str, int] = {}
    counters: dict[str, int] = {}
    out = []
    for m in messages:
        device = m.topic.rsplit("/", 1)[0]
        body = json.loads(m.payload)
        if m.stream == "session" and body["event"] == "start" and m.ts > after_ts:
            restart_at.setdefault(device, m.ts)
        if m.stream == "steps" and device in restart_at:
            body["seq"] = counters.get(device, 0)
            counters[device] = body["seq"] + 1
            m = m._replace(payload=json.dumps(body).encode())
        out.append(m)
    assert restart_at and counters, "no pod rebooted"
    return out


def judged(messages: list[Message], db: str) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Through the pipeline in this process: the worst severity per athlete and rule, and the final levels."""
    alerts: list[dict[str, object]] = []
    now = int(time.time() * 1000)
    with Store(db, synchronous="OFF") as store:
        store.migrate()
        service = RiskPipeline(store, TeamsConfig.default(), lambda _t, payload, _i: alerts.append(json.loads(payload)))
        for start in range(0, len(messages), 50):
            batch = Records.of(
                to_record(m.topic, m.payload, now_ms=now, max_future_ms=0) for m in messages[start : start + 50]
            )
            service.handle(store.write(batch, received_at=now))
    return worst_rules(alerts), {str(a["athlete"]): str(a["level"]) for a in alerts}


def test_a_pod_that_reboots_mid_week_loses_nothing_and_is_judged_the_same(
    db_url: str, own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    clean = list(generate(*SCENARIOS, end=SCENARIO_END, seed=6, batch_steps=150))
    week_ago = int(time.mktime(SCENARIO_END.timetuple()) * 1000) - 4 * 86_400_000
    faulty = rebooted(clean, after_ts=week_ago)
    reference, reference_levels = judged(clean, f"sqlite:///{tmp_path}/clean.db")
    assert any(reference.values()), "the scenarios raise nothing to compare"

    log_path, health = tmp_path / "run.log", tmp_path / "health.json"
    with log_path.open("ab") as log:
        process = start_ingest(own_broker.url, db_url, log, "reboot", "--health-file", str(health), command="run")
    try:
        wait_until(health.exists, timeout=60, what="run started")
        publish(faulty, url=own_broker.url, progress=False)
        wait_until(lambda: settled(health), timeout=120, what="the traffic scored")
    finally:
        process.terminate()
        process.wait(15)
    with Store(db_url) as store:
        dead = store.dead_letters()
        steps = store.query("SELECT sum(n_steps) FROM step_batches")[0][0]
        events = [json.loads(p) for (p,) in store.query("SELECT payload FROM alert_events ORDER BY ts, seq")]
        last = max(m.ts for m in clean if m.stream != "status")
        assessed = {a.athlete: a.level.label for a in RiskEngine(store, TeamsConfig.default()).assess_all(at=last)}
    assert dead == []
    assert steps == sum(m.steps for m in clean if m.stream == "steps")
    assert worst_rules(events) == reference
    levels = {str(e["athlete"]): str(e["level"]) for e in events}
    assert levels == reference_levels
    assert {a: assessed.get(a, "low") for a in levels} == levels
