"""Plain paho clients for tests: publish raw bytes, collect what a subscriber receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt import BrokerAddress, connect_blocking, make_client


def publish_all(url: str, messages: Iterable[tuple[str, bytes]], *, retain: bool = False, qos: int = 1) -> int:
    """Publish every (topic, payload) at QoS 1 and wait until the broker has each one."""
    address = BrokerAddress.parse(url)
    client = make_client(address)
    client.max_inflight_messages_set(200)
    connect_blocking(client, address)
    sent = 0
    try:
        pending = []
        for topic, payload in messages:
            pending.append(client.publish(topic, payload, qos=qos, retain=retain))
            sent += 1
            if len(pending) >= 500:
                for info in pending:
                    info.wait_for_publish(30)
                pending.clear()
        for info in pending:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


@dataclass
class Collector:
    """A subscriber that keeps every message it receives (topic, payload, retain flag)."""

    url: str
    topic_filter: str
    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    user_properties: list[dict[str, str]] = field(default_factory=list)  # MQTT v5, one per message
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Collector:
        address = BrokerAddress.parse(self.url)
        self._client = make_client(address)
        subscribed = threading.Event()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: subscribed.set()
        connect_blocking(self._client, address)
        self._client.subscribe(self.topic_filter, options=SubscribeOptions(qos=1))
        if not subscribed.wait(10):
            raise TimeoutError(f"no SUBACK for {self.topic_filter}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
            self.user_properties.append(dict(getattr(msg.properties, "UserProperty", None) or []))

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
