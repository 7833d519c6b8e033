"""Hostile input through a real broker: each bad message is dead-lettered, the flow goes on."""

from __future__ import annotations

import json
import re
import time

import pytest

from ingest.consumer import Consumer
from ingest.store import Store
from tests.mqtt_helpers import Collector, publish_all, wait_until

pytestmark = pytest.mark.integration
NOW = int(time.time() * 1000)
TOPIC = "stridewatch/v1/hostile/a1/pod/steps"


def valid(seq: int) -> bytes:
    steps = [{"ts": NOW + seq * 1000 + i * 350, "foot": "LR"[i % 2], "cadence_spm": 170, "impact_g": 7.5}
             for i in range(3)]  # fmt: skip
    return json.dumps({"session_id": "s1", "seq": seq, "steps": steps}).encode()


HOSTILE: list[tuple[str, bytes, str | re.Pattern[str]]] = [
    (TOPIC, b"{" + b" " * (10 * 1024 * 1024) + b"}", "payload: 10485762 bytes is over the 262144 byte limit"),
    (TOPIC, b'{"session_id": "\xff\xfe", "seq": 1}', "payload: not valid UTF-8 JSON"),
    (TOPIC, b"[" * 100_000 + b"]" * 100_000, "payload: not valid UTF-8 JSON (recursion limit exceeded"),
    (TOPIC, valid(900).replace(b"7.5", b"NaN", 1),
     "steps[0].impact_g: must be a finite number (NaN and Infinity are not allowed)"),
    (TOPIC, json.dumps(json.loads(valid(901)) | {"athlete": "someone-else"}).encode(),
     "athlete: 'someone-else' disagrees with the topic's 'a1'"),
    ("stridewatch/v1/hostile/a1/pod/heartrate", valid(902), "topic: unknown stream 'heartrate'"),
    (TOPIC, valid(903).replace(str(NOW + 903_700).encode(), str(NOW + 400 * 86_400_000).encode(), 1),
     re.compile(r"steps\[\]\.ts: 345\d{5} s in the future, beyond the 21600 s allowed")),
    (TOPIC, valid(904).replace(str(NOW + 904_000).encode(), b"12", 1),
     "steps[].ts: 12 is before 2000-01-01"),
]  # fmt: skip


def test_hostile_messages_are_dead_lettered_and_valid_traffic_is_stored(broker: object, consumer: Consumer) -> None:
    url = broker.url  # type: ignore[attr-defined]
    with Collector(url, "stridewatch/v1/hostile/deadletter") as dead_topic:
        messages = []
        for i, (topic, payload, _reason) in enumerate(HOSTILE):
            messages += [(TOPIC, valid(2 * i)), (topic, payload), (TOPIC, valid(2 * i + 1))]
        publish_all(url, messages)
        wait_until(lambda: consumer.health.stored + consumer.health.dead_letters >= len(messages), timeout=60,
                   what="every message committed")  # fmt: skip
        wait_until(lambda: len(dead_topic.snapshot()) >= len(HOSTILE), timeout=10, what="dead letters published")
    with Store(consumer.config.db_url) as store:
        dead = store.dead_letters(team="hostile")
        steps = store.steps(team="hostile")
    assert len(dead) == len(HOSTILE)
    for (topic, _payload, reason), (_team, got_topic, got_reason) in zip(HOSTILE, dead, strict=True):
        assert got_topic == topic
        assert re.match(reason, got_reason) if isinstance(reason, re.Pattern) else got_reason.startswith(reason)
    assert steps.height == 3 * 2 * len(HOSTILE)
    assert consumer.health.dead_letters == len(HOSTILE) and consumer.health.connected
    published = [json.loads(p) for _t, p, _r in dead_topic.snapshot()]
    assert [d["reason"] for d in published] == [reason for _team, _topic, reason in dead]
    assert consumer.wait(0.1) is None  # still running
    assert all(len(d["payload_excerpt"]) <= 200 for d in published)
