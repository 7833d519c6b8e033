"""Every valid message stored exactly once: a fleet, a consumer killed -9, a broker restart, faulty traffic."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ingest.consumer import Consumer, ConsumerConfig
from ingest.store import Store
from simulators import FaultPlan, fleet, generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from tests.ingest_counts import expected_per_team, killed_while_publishing, stored_per_team, stored_steps
from tests.mqtt_helpers import wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration


def test_a_fleet_is_stored_exactly_once(broker: object, consumer: Consumer) -> None:
    replay = generate(fleet(12, teams=3, days=14, seed=7), end=SCENARIO_END, seed=7, batch_steps=50)
    expected = expected_per_team(replay)
    report = publish(replay, url=broker.url, progress=False)  # type: ignore[attr-defined]
    total = sum(t["steps"] for t in expected.values())
    assert report.steps == total > 10_000
    wait_until(lambda: stored_steps(consumer.config.db_url) == total, timeout=120, what=f"{total} steps stored")
    wait_until(lambda: stored_per_team(consumer.config.db_url) == expected, timeout=10, what="every message stored")
    assert consumer.health.dead_letters == 0


def test_faulty_traffic_dead_letters_exactly_the_corrupted_messages(broker: object, consumer: Consumer) -> None:
    replay = FaultPlan(duplicate=0.05, reorder=16, corrupt=0.05).apply(
        generate("jump_rope_spike", "restart_runner", end=SCENARIO_END, seed=3), seed=3
    )
    messages = list(replay)
    corrupted = {(m.topic, m.payload): m.fault for m in messages if m.fault}
    assert len(corrupted) >= 10 and any(m.duplicate for m in messages)
    publish(messages, url=broker.url, progress=False)  # type: ignore[attr-defined]
    wait_until(lambda: consumer.health.received >= len(messages), timeout=120, what="every message consumed")
    expected = expected_per_team(messages)
    # received counts a batch before its commit: wait for the commit, not just the delivery
    wait_until(lambda: stored_per_team(consumer.config.db_url) == expected, timeout=30, what="every message stored")
    with Store(consumer.config.db_url) as store:
        dead = store.dead_letters()
    assert len(dead) == len(corrupted)
    reasons = {
        "malformed_json": "payload: not valid UTF-8 JSON", "wrong_type": "must be", "missing_field": "required",
        "nan": "must be a finite number", "out_of_range": "must be", "topic_mismatch": "disagrees with the topic",
        "bad_topic": "topic: unknown stream 'telemetry'",
    }  # fmt: skip
    kinds_by_topic: dict[str, set[str]] = {}
    for (topic, _payload), kind in corrupted.items():
        kinds_by_topic.setdefault(topic, set()).add(kind)
    for _team, topic, reason in dead:
        assert any(reasons[kind] in reason for kind in kinds_by_topic[topic]), (topic, reason)


def test_kill_9_at_random_moments_loses_and_doubles_nothing(
    own_broker: SpawnedMosquitto, db_url: str, tmp_path: Path
) -> None:
    replay = generate(fleet(8, teams=2, days=21, seed=11), end=SCENARIO_END, seed=11, batch_steps=20)
    expected = expected_per_team(replay)
    total = sum(t["steps"] for t in expected.values())
    with killed_while_publishing(own_broker.url, db_url, tmp_path / "ingest.log", "killed-consumer", replay,
                                 kills=5, max_gap_s=1.5, speed=400_000) as kills:  # fmt: skip
        wait_until(lambda: stored_steps(db_url) >= total, timeout=120, what=f"{total} steps stored")
        assert stored_per_team(db_url) == expected
    assert kills >= 5


def test_a_broker_restart_mid_stream_loses_nothing(own_broker: SpawnedMosquitto, db_url: str) -> None:
    replay = generate(fleet(6, teams=2, days=14, seed=5), end=SCENARIO_END, seed=5, batch_steps=50)
    messages = list(replay)
    half = len(messages) // 2
    expected = expected_per_team(messages)
    disconnects_before = REGISTRY.get_sample_value("stridewatch_broker_disconnects_total") or 0.0
    consumer = Consumer(ConsumerConfig(mqtt_url=own_broker.url, db_url=db_url, client_id="restart-consumer"))
    consumer.start()
    try:
        publish(messages[:half], url=own_broker.url, progress=False)
        own_broker.restart()  # SIGTERM: mosquitto writes its persistence file, then comes back with it
        publish(messages[half:], url=own_broker.url, progress=False)
        total = sum(t["steps"] for t in expected.values())
        wait_until(lambda: stored_steps(db_url) >= total, timeout=120, what=f"{total} steps stored")
        assert stored_per_team(db_url) == expected
        assert consumer.health.reconnects >= 1
        assert (REGISTRY.get_sample_value("stridewatch_broker_disconnects_total") or 0.0) > disconnects_before
        assert REGISTRY.get_sample_value("stridewatch_broker_connected") == 1
    finally:
        consumer.stop()
