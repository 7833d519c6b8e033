"""The consumer never wedges (issue 17): paho's network thread never waits for the worker.

Against a real Mosquitto: whether the broker honours the consumer's Receive Maximum (with
the production config and with a bare one), that the consumer holds at most two windows
of messages either way, and that a worker slowed to 3 s a batch while 20,000 messages wait
neither costs the connection its keepalive nor keeps `stop` from returning.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.consumer import Consumer, ConsumerConfig
from ingest.mqtt import BrokerAddress, connect_blocking, make_client
from ingest.records import Records
from ingest.topics import device_topic
from simulators import fleet, generate, publish
from stridewatch.broker.local import SpawnedMosquitto, free_port
from tests.deployment import deployed
from tests.ingest_counts import expected_per_team, stored_per_team
from tests.mqtt_helpers import publish_all, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
TEAMS = """
[teams.red.devices]
a-1 = ["pod-1"]
"""


@contextmanager
def broker_under(config: str, root: Path, certs: Path) -> Iterator[tuple[str, str]]:
    """A Mosquitto on ``config`` (``production``: deploy/mosquitto, provisioned; ``bare``: a
    listener and nothing else): the service's URL and a device's."""
    root.mkdir()
    if config == "production":
        with deployed(root, TEAMS, certs) as deployment:
            yield deployment.url("stridewatch"), deployment.url("red.a-1.pod-1")
        return
    broker = SpawnedMosquitto(workdir=root, port=free_port(), config_file=root / "bare.conf")
    broker.config_file.write_text(f"listener {broker.port} 127.0.0.1\nallow_anonymous true\n")  # type: ignore[union-attr]
    broker.start()
    try:
        yield broker.url, broker.url
    finally:
        broker.stop()


def steps_messages(n: int) -> list[tuple[str, bytes]]:
    """``n`` valid three-step messages of device red/a-1/pod-1, one session."""
    start = int(time.time() * 1000) - 3_600_000
    topic = device_topic("red", "a-1", "pod-1", "steps")
    out = []
    for seq in range(n):
        steps = [{"ts": start + (3 * seq + i) * 350, "foot": "LR"[i % 2], "cadence_spm": 172.0} for i in range(3)]
        out.append((topic, json.dumps({"session_id": "s-1", "seq": seq, "steps": steps}).encode()))
    return out


def most_unacknowledged(service_url: str, device_url: str, window: int) -> int:
    """The most messages the broker has out, unacknowledged, to a client whose Receive Maximum
    is ``window``: a backlog of 10 windows, then three PUBACKs, one at a time."""
    address = BrokerAddress.parse(service_url)
    client = make_client(address, client_id="receive-maximum-probe", manual_ack=True)
    mids: list[int] = []
    client.on_message = lambda _c, _u, msg: mids.append(msg.mid)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.ReceiveMaximum = window
    connect_blocking(client, address, properties=props)
    client.subscribe(device_topic("red", "a-1", "pod-1", "steps"), options=SubscribeOptions(qos=1))
    assert subscribed.wait(10)
    try:
        publish_all(device_url, steps_messages(10 * window))

        def settled() -> int:
            seen = -1
            while seen != len(mids):  # nothing more for 0.5 s: the broker has sent what it will
                seen = len(mids)
                time.sleep(0.5)
            return seen

        most = first = settled()
        assert first > 0, "the probe received nothing"
        for acked in range(1, 4):
            client.ack(mids[acked - 1], 1)
            most = max(most, settled() - acked)
        return most
    finally:
        client.disconnect()
        client.loop_stop()


def stop_within(consumer: Consumer, seconds: float) -> float:
    """`Consumer.stop`, failing the test (not hanging it) if it has not returned in ``seconds``."""
    began = time.monotonic()
    stopper = threading.Thread(target=consumer.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    assert not stopper.is_alive(), f"Consumer.stop() had not returned after {seconds:g} s"
    return time.monotonic() - began


@pytest.mark.parametrize("config", ["production", "bare"])
def test_the_consumer_holds_two_windows_whether_or_not_the_broker_honours_its_receive_maximum(
    config: str, tmp_path: Path, dev_certs: Path
) -> None:
    window = 50
    with broker_under(config, tmp_path / "broker", dev_certs) as (service_url, device_url):
        out = most_unacknowledged(service_url, device_url, window)
        verdict = "honours" if out <= window else "does not honour"
        print(f"\nMosquitto, {config} config, {verdict} a Receive Maximum of {window}: up to {out} out unacknowledged")

        # A backlog of 20 windows for a worker that takes 0.1 s a batch: the broker gets ahead of it.
        backlog = steps_messages(20 * window)  # the consumer's session begins after the probe's messages
        db = f"sqlite:///{tmp_path}/flow.db"
        config_ = ConsumerConfig(mqtt_url=service_url, db_url=db, client_id=f"flow-{config}", batch_size=window)
        consumer = Consumer(config_, on_commit=lambda _records: time.sleep(0.1))
        consumer.start()
        try:
            total = publish_all(device_url, backlog)
            wait_until(lambda: consumer.health.stored >= total, timeout=60, what=f"{total} messages stored")
        finally:
            stop_within(consumer, 10)
    assert consumer.inbox.peak <= 2 * window
    assert stored_per_team(db) == {"red": {"steps": 3 * total, "messages": total, "wellness_reports": 0, "sessions": 1}}


def test_a_worker_at_3_s_a_batch_with_20000_messages_waiting_keeps_its_connection_and_stops(
    own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    window, slow_batches, keepalive_s = 500, 5, 5  # 5 batches of 3 s: twice the broker's 7.5 s keepalive timeout
    messages = list(generate(fleet(8, teams=2, days=14, seed=9), end=SCENARIO_END, seed=9, batch_steps=15))
    assert len(messages) >= 20_000
    expected = expected_per_team(messages)
    db = f"sqlite:///{tmp_path}/slow.db"
    config = ConsumerConfig(
        mqtt_url=own_broker.url, db_url=db, client_id="slow-worker", batch_size=window, keepalive_s=keepalive_s
    )
    slow = threading.Semaphore(slow_batches + 1)  # the last one is still in hand when `stop` comes
    done_slowly = [0]

    def on_commit(_records: Records) -> None:
        if slow.acquire(blocking=False):
            time.sleep(3)
            done_slowly[0] += 1

    consumer = Consumer(config, on_commit=on_commit)
    consumer.start()
    try:
        publish(messages, url=own_broker.url, progress=False)
        waiting = len(messages) - consumer.health.received
        wait_until(lambda: done_slowly[0] == slow_batches, timeout=60, what=f"{slow_batches} slow batches")
        broker_log = (own_broker.workdir / "mosquitto.log").read_text()
        about_it = [line for line in broker_log.splitlines() if "slow-worker" in line]
        assert len(about_it) == 1 and "New client connected" in about_it[0], about_it  # no timeout, no disconnect
        assert consumer.health.reconnects == 0
        assert consumer.inbox.peak <= 2 * window
    finally:
        stopped_in = stop_within(consumer, 10)  # mid-batch, mid-backlog
    assert waiting >= len(messages) - 2 * window
    assert stopped_in < 6  # `Consumer.stop`'s 5 s, and a margin
    assert stored_per_team(db) != expected  # the rest is still at the broker...

    resumed = Consumer(config)  # ...for the next run of the same session
    resumed.start()
    try:
        wait_until(lambda: stored_per_team(db) == expected, timeout=120, what="every message stored")
    finally:
        resumed.stop()
