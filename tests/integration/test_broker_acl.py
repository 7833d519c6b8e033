"""Per-team isolation on a real Mosquitto running the production config with `stridewatch provision`'s files.

Two teams, red and blue; the stridewatch consumer ingests through a ``$share/`` subscription
as the service account. Every refusal is checked by its MQTT v5 reason code, and the store
and subscribers are checked to have nothing they should not.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.consumer import Consumer, ConsumerConfig
from ingest.store import Store
from tests.deployment import Deployment, deployed
from tests.mqtt_helpers import wait_until

pytestmark = pytest.mark.integration

HOOK = "json://127.0.0.1:8080/hook"
TEAMS = f"""
[teams.red.devices]
a-1 = ["pod-1", "watch-1"]
a-2 = ["pod-2"]
[[teams.red.coaches]]
name = "Rae"
mqtt_login = "rae"
notify = ["{HOOK}"]

[teams.blue.devices]
b-1 = ["pod-1"]
[[teams.blue.coaches]]
name = "Bo"
mqtt_login = "bo"
notify = ["{HOOK}"]
"""
NOT_AUTHORIZED = 135
BAD_USER_OR_PASSWORD = 134
REFUSALS: list[str] = []  # every case the broker refused, counted at the end (pytest -s shows it)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, dev_certs: Path) -> Iterator[Deployment]:
    with deployed(tmp_path_factory.mktemp("deployment"), TEAMS, dev_certs) as deployment:
        yield deployment


@pytest.fixture(scope="module", autouse=True)
def count_refusals() -> Iterator[None]:
    yield
    print(f"\nACL cases refused: {len(REFUSALS)}\n" + "\n".join(f"  - {case}" for case in REFUSALS))


@pytest.fixture(scope="module")
def service(deployment: Deployment) -> Iterator[Consumer]:
    """The stridewatch consumer, logged in as the service account, on a shared subscription."""
    config = ConsumerConfig(
        mqtt_url=deployment.url("stridewatch"), db_url=deployment.db_url, client_id="acl-ingest", share_group="ingest"
    )
    consumer = Consumer(config)
    consumer.start()
    yield consumer
    consumer.stop()


class Client:
    """A paho v5 client that records PUBACK reason codes and received messages."""

    def __init__(self, url: str) -> None:
        from ingest.mqtt import BrokerAddress, make_client

        self.address = BrokerAddress.parse(url)
        self.mqtt = make_client(self.address)
        self.acks: dict[int, int] = {}
        self.received: list[tuple[str, bool]] = []
        self._acked = threading.Condition()
        self._subscribed = threading.Event()
        self.mqtt.on_publish = self._on_publish
        self.mqtt.on_message = lambda _c, _u, m: self.received.append((m.topic, bool(m.retain)))
        self.mqtt.on_subscribe = lambda *_: self._subscribed.set()

    def __enter__(self) -> Client:
        from ingest.mqtt import connect_blocking

        connect_blocking(self.mqtt, self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()

    def _on_publish(self, _c: object, _u: object, mid: int, reason: object, _p: object) -> None:
        with self._acked:
            self.acks[mid] = int(getattr(reason, "value", 0))
            self._acked.notify_all()

    def publish(self, topic: str, payload: dict[str, object], *, retain: bool = False) -> int:
        """Publish at QoS 1; the broker's PUBACK reason code."""
        info = self.mqtt.publish(topic, json.dumps(payload).encode(), qos=1, retain=retain)
        with self._acked:
            assert self._acked.wait_for(lambda: info.mid in self.acks, 10), f"no PUBACK for {topic}"
            return self.acks[info.mid]

    def subscribe(self, topic_filter: str) -> None:
        self._subscribed.clear()
        self.mqtt.subscribe(topic_filter, options=SubscribeOptions(qos=1))
        assert self._subscribed.wait(10), f"no SUBACK for {topic_filter}"


def connack(url: str) -> int:
    """The CONNACK reason code the broker gives a client connecting with ``url``'s credentials."""
    from ingest.mqtt import BrokerAddress

    address = BrokerAddress.parse(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password.get_secret_value() if address.password else "")
    answered = threading.Event()
    code: list[int] = []

    def on_connect(_c: object, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        code.append(reason.value)
        answered.set()

    client.on_connect = on_connect
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return code[0]


def wellness(note: str) -> dict[str, object]:
    return {"ts": int(time.time() * 1000) - 60_000, "pain": [], "note": note}


def stored(db_url: str) -> dict[str, int]:
    with Store(db_url) as store:
        return {row.team: row.messages for row in store.stats()}


def refused(case: str, code: int, expected: int = NOT_AUTHORIZED) -> None:
    assert code == expected, f"{case}: reason code {code}, expected {expected}"
    REFUSALS.append(case)


def test_devices_publish_only_to_their_own_topics(deployment: Deployment, service: Consumer) -> None:
    with Client(deployment.url("red.a-1.pod-1")) as pod:
        refused(
            "device of red publishes to blue's device topic",
            pod.publish("stridewatch/v1/blue/b-1/pod-1/wellness", wellness("spoof")),
        )
        refused(
            "device publishes to another device of its athlete",
            pod.publish("stridewatch/v1/red/a-1/watch-1/wellness", wellness("spoof")),
        )
        refused(
            "device publishes to another athlete of its team",
            pod.publish("stridewatch/v1/red/a-2/pod-2/wellness", wellness("spoof")),
        )
        refused(
            "device publishes its id under another team",
            pod.publish("stridewatch/v1/blue/a-1/pod-1/wellness", wellness("spoof")),
        )
        refused(
            "device publishes a fake alert", pod.publish("stridewatch/v1/red/alerts/a-1", {"level": "low"}, retain=True)
        )
        refused("device publishes a dead letter", pod.publish("stridewatch/v1/red/deadletter", {"reason": "x"}))
        refused("device acknowledges an alert", pod.publish("stridewatch/v1/red/acks/a-1", {"by": "pod"}))
        assert pod.publish("stridewatch/v1/red/a-1/pod-1/wellness", wellness("mine")) == 0  # its own topic
        assert (
            pod.publish(
                "stridewatch/v1/red/a-1/pod-1/status", {"ts": int(time.time() * 1000), "online": True}, retain=True
            )
            == 0
        )
    with Client(deployment.url("rae")) as coach:
        refused(
            "coach publishes as a device of their team",
            coach.publish("stridewatch/v1/red/a-1/pod-1/wellness", wellness("x")),
        )
        refused(
            "coach publishes an alert", coach.publish("stridewatch/v1/red/alerts/a-1", {"level": "low"}, retain=True)
        )
        refused("coach of red acknowledges blue's alert", coach.publish("stridewatch/v1/blue/acks/b-1", {"by": "rae"}))
        assert coach.publish("stridewatch/v1/red/acks/a-1", {"by": "rae"}) in (0, 16)  # 16: accepted, nobody listening

    wait_until(lambda: stored(deployment.db_url).get("red") == 1, timeout=20, what="the device's own message stored")
    time.sleep(0.5)  # anything refused that slipped through would be in by now
    assert stored(deployment.db_url) == {"red": 1}  # only the message to its own topic; nothing for blue
    with Store(deployment.db_url) as store:
        assert store.dead_letters() == []  # refused messages never reached the service


def test_coaches_read_only_their_own_teams_alerts(deployment: Deployment, service: Consumer) -> None:
    for team, athlete in (("red", "a-1"), ("blue", "b-1")):  # the service publishes each team's alert, retained
        alert = json.dumps({"team": team}).encode()
        service.publish(f"stridewatch/v1/{team}/alerts/{athlete}", alert, retain=True).wait_for_publish(10)
    with Client(deployment.url("bo")) as blue:
        blue.subscribe("stridewatch/v1/blue/alerts/#")
        wait_until(lambda: ("stridewatch/v1/blue/alerts/b-1", True) in blue.received, timeout=10, what="blue's alert")

    with Client(deployment.url("rae")) as red:
        for topic_filter in (
            "stridewatch/v1/blue/alerts/#",
            "stridewatch/v1/#",
            "#",
            "$share/g/stridewatch/v1/+/alerts/+",
        ):
            red.subscribe(topic_filter)
        wait_until(lambda: ("stridewatch/v1/red/alerts/a-1", True) in red.received, timeout=10, what="red's own alert")
        service.publish("stridewatch/v1/blue/alerts/b-1", json.dumps({"team": "blue", "new": 1}).encode(), retain=True)
        service.publish("stridewatch/v1/blue/deadletter", b"{}")
        time.sleep(1)
        leaked = [topic for topic, _ in red.received if not topic.startswith("stridewatch/v1/red/")]
    assert leaked == []
    REFUSALS.extend(
        f"coach of red gets nothing of blue through {f}"
        for f in ("blue/alerts/#", "#", "stridewatch/v1/#", "$share/...")
    )


def test_devices_cannot_read_other_devices(deployment: Deployment, service: Consumer) -> None:
    with Client(deployment.url("red.a-2.pod-2")) as reader, Client(deployment.url("red.a-1.pod-1")) as writer:
        for topic_filter in ("stridewatch/v1/red/a-1/pod-1/#", "stridewatch/v1/#", "stridewatch/v1/red/alerts/#"):
            reader.subscribe(topic_filter)
        assert writer.publish("stridewatch/v1/red/a-1/pod-1/wellness", wellness("private")) == 0
        service.publish("stridewatch/v1/red/alerts/a-2", b"{}", retain=True)
        time.sleep(1)
    assert reader.received == []
    REFUSALS.extend(["device reads another device's stream", "device reads everything", "device reads alerts"])


def test_anonymous_and_wrong_credentials_are_refused(deployment: Deployment) -> None:
    refused("anonymous connection", connack(deployment.url(None)))
    refused("wrong password", connack(deployment.url("red.a-1.pod-1", "not-the-password")))
    refused(
        "another account's password", connack(deployment.url("rae", (deployment.secrets / "bo").read_text().strip()))
    )
    refused("unknown login", connack(deployment.url("mallory", "whatever")))
    refused("empty password", connack(deployment.url("stridewatch", "")))
    assert connack(deployment.url("stridewatch")) == 0


def test_the_consumer_reads_every_device_through_the_shared_subscription(
    deployment: Deployment, service: Consumer
) -> None:
    before = stored(deployment.db_url)
    with Client(deployment.url("blue.b-1.pod-1")) as blue:
        assert blue.publish("stridewatch/v1/blue/b-1/pod-1/wellness", wellness("blue's own")) == 0
    wait_until(lambda: stored(deployment.db_url).get("blue", 0) == before.get("blue", 0) + 1, timeout=20, what="stored")
