"""The simulator publishes through a real Mosquitto: every message arrives intact, even across drops."""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from simulators import Message, Replay, generate, load_scenario, publish
from tests.mqtt_helpers import Collector, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def team() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"  # retained status messages must not leak between tests


@pytest.fixture
def subscriber(broker: Any, team: str) -> Iterator[Collector]:
    """A plain QoS 1 subscriber, subscribed before anything is published."""
    with Collector(broker.url, f"stridewatch/v1/{team}/#") as collector:
        yield collector


def rope_spike(team: str) -> Replay:
    scenario = load_scenario("jump_rope_spike").model_copy(update={"team": team})
    return generate(scenario, start=date(2026, 3, 2), seed=11)


def received_all(subscriber: Collector, messages: list[Message]) -> list[tuple[str, bytes]]:
    """What the subscriber got, once every message has arrived at least once."""
    sent = Counter((m.topic, m.payload) for m in messages)

    def got() -> list[tuple[str, bytes]]:
        return [(topic, payload) for topic, payload, _ in subscriber.snapshot()]

    wait_until(lambda: not sent - Counter(got()), timeout=30, what=f"{len(messages)} messages")
    return got()


def test_every_message_arrives_byte_for_byte(broker: Any, team: str, subscriber: Collector) -> None:
    replay = rope_spike(team)
    messages = list(replay)
    report = publish(replay, url=broker.url, progress=False, client_id=f"sim-{team}")
    assert report.messages == len(messages) and report.reconnects == 0
    assert report.steps == sum(m.steps for m in messages) > 3500
    assert report.by_stream == dict(Counter(m.stream for m in messages))
    received_all(subscriber, messages)
    time.sleep(0.2)  # then nothing more may come
    got = [(topic, payload) for topic, payload, _ in subscriber.snapshot()]
    sent = [(m.topic, m.payload) for m in messages]
    assert Counter(got) == Counter(sent)  # same count, byte-equal payloads
    in_order: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in sent:
        in_order[topic].append(payload)
    arrived: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in got:
        arrived[topic].append(payload)
    assert arrived == in_order  # and in order, topic by topic


def test_dropped_connections_lose_nothing_at_qos_1(broker: Any, team: str, subscriber: Collector) -> None:
    replay = rope_spike(team)
    messages = list(replay)
    report = publish(replay, url=broker.url, progress=False, client_id=f"sim-{team}", drop_every=700, max_inflight=50)
    received_all(subscriber, messages)  # every message, duplicates allowed
    assert report.reconnects == len(messages) // 700 >= 3
    assert report.messages == len(messages)


def test_paced_replay_takes_event_time_over_the_speed_factor(broker: Any, team: str, subscriber: Collector) -> None:
    messages = list(rope_spike(team))
    first_90_s = [m for m in messages if m.ts - messages[0].ts <= 90_000]
    span_s = (first_90_s[-1].ts - first_90_s[0].ts) / 1000
    began = time.monotonic()
    publish(first_90_s, url=broker.url, speed=60, progress=False, client_id=f"sim-{team}")
    assert span_s / 60 <= time.monotonic() - began <= span_s / 60 + 2.0  # event time, 60 times faster
    assert span_s > 45
    received_all(subscriber, first_90_s)
