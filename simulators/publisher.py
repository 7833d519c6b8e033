"""Publish simulated messages to a broker: QoS 1, paced by event time, bounded in flight.

At most ``max_inflight`` messages (and no more than the broker's Receive Maximum) are
unacknowledged at any time, so a fleet of any size runs in constant memory;
`publish` returns only when the broker has acknowledged every message. PUBACKs are
counted in paho's ``on_publish`` rather than with ``wait_for_publish``, because a message
published while the link is down is sent on reconnect, yet its ``MQTTMessageInfo`` keeps
the "not connected" code forever.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.message import Message
from ingest.mqtt import BrokerAddress, connect_blocking, make_client
from simulators.errors import PublishError
from simulators.messages import Replay


@dataclass(frozen=True, kw_only=True)
class PublishReport:
    messages: int
    steps: int
    by_stream: dict[str, int]
    faults: dict[str, int]  # corrupted messages by kind, and "duplicate"
    reconnects: int
    duration_s: float
    first_ts: int | None  # event time of the earliest message published, ms
    last_ts: int | None

    @property
    def rate(self) -> float:
        """Messages per second of wall time."""
        return self.messages / self.duration_s if self.duration_s > 0 else 0.0


def parse_speed(speed: str | float) -> float | None:
    """``"max"`` -> None (no pacing), ``"realtime"`` -> 1.0, ``"60"``/``"60x"``/60 -> 60.0 (times faster)."""
    if speed == "max":
        return None
    if speed == "realtime":
        return 1.0
    try:
        factor = float(speed.removesuffix("x") if isinstance(speed, str) else speed)
    except ValueError:
        raise ValueError(f"speed {speed!r}: use max, realtime or a factor such as 60") from None
    if not 0 < factor < float("inf"):
        raise ValueError(f"speed {speed!r}: a factor must be > 0")
    return factor


def publish(
    messages: Iterable[Message],
    *,
    url: str,
    speed: str | float = "max",
    client_id: str | None = None,
    progress: bool = True,
    max_inflight: int = 64,
    drop_every: int | None = None,
    ack_timeout_s: float = 30.0,
    console: Console | None = None,
) -> PublishReport:
    """Publish ``messages`` in order at QoS 1 to the broker at ``url``; wait for every PUBACK.

    ``speed``: ``"max"`` (no waiting: weeks of history in seconds), ``"realtime"``, or a
    factor (60: a minute of event time per second). ``drop_every``: cut the connection
    after every N messages and carry on once paho has reconnected (a fault test).
    Raises `PublishError` if the broker refuses a message or acknowledges nothing for
    ``ack_timeout_s``, and `ingest.mqtt.BrokerError` if it cannot be reached.
    """
    if max_inflight < 1:
        raise ValueError("max_inflight must be >= 1")
    if drop_every is not None and drop_every < 1:
        raise ValueError("drop_every is a number of messages: >= 1")
    factor = parse_speed(speed)
    address = BrokerAddress.parse(url)
    client = make_client(address, client_id=client_id or f"stridewatch-sim-{os.getpid()}")
    client.max_inflight_messages_set(max_inflight)  # paho allows it only before connecting
    acks, link = _Acks(), _Link()
    client.on_publish = acks.on_publish
    client.on_connect = link.on_connect
    connect_blocking(client, address)

    tally = _Tally()
    pace = _Pacer(factor)
    began = time.monotonic()
    span = (messages.first_ts, messages.last_ts) if isinstance(messages, Replay) else None
    total = (span[1] - span[0]) / 1000 if span else None  # event-time seconds
    with _progress_bar(progress, console) as bar:
        task = bar.add_task("publishing", total=total, when="", count=0)
        try:
            for count, message in enumerate(messages, 1):
                pace.wait(message.ts)
                acks.wait_below(min(max_inflight, link.receive_maximum), ack_timeout_s)
                info = client.publish(message.topic, message.payload, qos=1, retain=message.retain)
                if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                    reason = mqtt.error_string(info.rc)
                    raise PublishError(f"paho could not queue a message for {message.topic}: {reason}")
                acks.sent(info.mid)
                tally.add(message)
                if count % 500 == 0 or count == 1:
                    bar.update(
                        task, completed=tally.seconds_since(span[0]) if span else None, when=tally.when(), count=count
                    )
                if drop_every and count % drop_every == 0:
                    link.drop(client, ack_timeout_s)
            acks.wait_below(1, ack_timeout_s)
            bar.update(task, completed=total, when=tally.when(), count=tally.messages)
        finally:
            client.disconnect()
            client.loop_stop()
    return PublishReport(
        messages=tally.messages,
        steps=tally.steps,
        by_stream=dict(tally.by_stream),
        faults=dict(tally.faults),
        reconnects=link.connects - 1,
        duration_s=time.monotonic() - began,
        first_ts=tally.first_ts,
        last_ts=tally.last_ts,
    )


def _progress_bar(enabled: bool, console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("event time {task.fields[when]}"),
        TextColumn("{task.fields[count]:,} messages"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
    )


class _Pacer:
    """Sleeps so that event time passes ``factor`` times faster than wall time (None: never sleeps)."""

    def __init__(self, factor: float | None) -> None:
        self._factor = factor
        self._origin: tuple[float, int] | None = None  # (wall clock, event time) of the first message

    def wait(self, ts: int) -> None:
        if self._factor is None:
            return
        self._origin = self._origin or (time.monotonic(), ts)
        due = self._origin[0] + (ts - self._origin[1]) / 1000 / self._factor
        time.sleep(max(0.0, due - time.monotonic()))  # a reordered, earlier message goes at once


@dataclass
class _Tally:
    """What has been published so far, for the report and the progress bar."""

    messages: int = 0
    steps: int = 0
    by_stream: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    first_ts: int | None = None
    last_ts: int | None = None

    def add(self, message: Message) -> None:
        self.messages += 1
        self.steps += message.steps
        self.by_stream[message.stream] += 1
        if message.fault:
            self.faults[message.fault] += 1
        if message.duplicate:
            self.faults["duplicate"] += 1
        self.first_ts = message.ts if self.first_ts is None else min(self.first_ts, message.ts)
        self.last_ts = message.ts if self.last_ts is None else max(self.last_ts, message.ts)

    def seconds_since(self, ts: int) -> float:
        return ((self.last_ts or ts) - ts) / 1000

    def when(self) -> str:
        return datetime.fromtimestamp(self.last_ts / 1000, UTC).strftime("%Y-%m-%d %H:%M") if self.last_ts else ""


class _Acks:
    """Unacknowledged message ids. paho calls ``on_publish`` on its network thread while it
    holds its own lock, so the publishing thread never holds ours across ``client.publish``;
    an ack that beats its ``sent`` is remembered in ``early``."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._outstanding: set[int] = set()
        self._early: set[int] = set()
        self._refused: str | None = None

    def on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, properties: object) -> None:
        with self._changed:
            if getattr(reason, "is_failure", False) and self._refused is None:
                self._refused = str(reason)
            if mid in self._outstanding:
                self._outstanding.remove(mid)
            else:
                self._early.add(mid)
            self._changed.notify_all()

    def sent(self, mid: int) -> None:
        with self._changed:
            if mid in self._early:
                self._early.remove(mid)
            else:
                self._outstanding.add(mid)

    def wait_below(self, limit: int, timeout_s: float) -> None:
        with self._changed:
            room = self._changed.wait_for(lambda: len(self._outstanding) < limit or self._refused, timeout_s)
            if self._refused:
                raise PublishError(f"the broker refused a message: {self._refused}")
            if not room:
                raise PublishError(
                    f"no PUBACK for {timeout_s:g} s with {len(self._outstanding)} messages unacknowledged"
                )


class _Link:
    """Connection events: counts connects, learns the broker's Receive Maximum, drops the link."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.connects = 0
        self.receive_maximum = 65535

    def on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            return
        with self._changed:
            self.connects += 1
            self.receive_maximum = getattr(properties, "ReceiveMaximum", self.receive_maximum)
            self._changed.notify_all()

    def drop(self, client: mqtt.Client, timeout_s: float) -> None:
        """Cut the TCP connection under paho, as a network failure would, and wait until it reconnects.

        paho then resends every unacknowledged QoS 1 message with the DUP flag.
        """
        with self._changed:
            before = self.connects
        sock = client.socket()
        if isinstance(sock, socket.socket):  # TLS sockets too; a websocket wrapper is not cut
            sock.shutdown(socket.SHUT_RDWR)
        with self._changed:
            if not self._changed.wait_for(lambda: self.connects > before, timeout_s):
                raise PublishError(f"paho did not reconnect within {timeout_s:g} s after the dropped connection")
