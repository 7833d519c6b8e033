"""Live updates: alerts and acknowledgements pushed to every open page (Server-Sent Events).

With a broker, `MqttLink` subscribes to the risk and acknowledgement topics, so a page
hears of an alert the moment ``stridewatch run`` publishes it, and of another coach's
acknowledgement; it also publishes this dashboard's acknowledgements. Without one,
`poll_changes` watches the database instead. Either way the browser gets the same events
from `LiveFeed`, and ``static/live.js`` refreshes the page's live region.

Every event belongs to a team (its topic's, or the team whose rows changed), and a page's
stream carries only its viewer's teams: a coach never hears of another team's alert.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt import BrokerAddress, BrokerError, connect_blocking, make_client
from ingest.store import Store
from ingest.topics import ack_filter, alert_filter, team_of
from stridewatch.dashboard.acks import ack_changes
from stridewatch.dashboard.auth import Viewer
from stridewatch.risk.alert_store import AlertStore

log = logging.getLogger("stridewatch.dashboard")
KEEPALIVE_S = 15.0
QUEUE_SIZE = 100


@dataclass(frozen=True)
class Event:
    kind: str  # "alert", "ack" or "changed" (seen in the database)
    team: str
    data: dict[str, Any]

    def sse(self) -> str:
        return f"event: {self.kind}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


class LiveFeed:
    """Fans events out to every connected page; `push_threadsafe` may be called from any thread."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def push(self, event: Event) -> None:
        for queue in self._queues:
            if queue.full():  # a page that stopped reading: it refreshes on the next event anyway
                queue.get_nowait()
            queue.put_nowait(event)

    def push_threadsafe(self, event: Event) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.push, event)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    async def stream(self, viewer: Viewer) -> AsyncIterator[str]:
        """One page's event stream, only ``viewer``'s teams, with a comment line now and then to
        keep proxies from closing it."""
        with self.subscribe() as queue:
            yield "retry: 3000\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if viewer.sees(event.team):
                    yield event.sse()


class MqttLink:
    """The dashboard's broker connection: alerts and acknowledgements in, acknowledgements out."""

    def __init__(self, url: str, feed: LiveFeed) -> None:
        self.address = BrokerAddress.parse(url)
        self._feed = feed
        self._client = make_client(self.address)
        self._client.on_connect = self._subscribe  # again after every reconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        connect_blocking(self._client, self.address)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish retained at QoS 1 and wait for the broker to have it."""
        info = self._client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(5.0)
        if not info.is_published():
            raise BrokerError(f"the MQTT broker at {self.address} did not take {topic} within 5 s")

    def _subscribe(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe([(alert_filter(), SubscribeOptions(qos=1)), (ack_filter(), SubscribeOptions(qos=1))])

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        kind = "ack" if "/acks/" in message.topic else "alert"
        team = team_of(message.topic)
        try:
            data = json.loads(message.payload)
        except ValueError:
            log.warning("not JSON on a coach topic", extra={"topic": message.topic})
            return
        if team is not None:
            self._feed.push_threadsafe(Event(kind, team, data if isinstance(data, dict) else {}))


def change_markers(db_url: str) -> dict[str, tuple[Any, ...]]:
    """Per team, what changes when one of its alert events or acknowledgements is stored.

    A connection of its own each time: a cancelled poll leaves its thread running, and
    that thread must not reopen a connection someone else closed."""
    markers: dict[str, list[Any]] = {}
    with Store(db_url) as store:
        for i, rows in enumerate((AlertStore(store).changes(), ack_changes(store))):
            for team, count, latest in rows:
                markers.setdefault(team, [None] * 4)[2 * i : 2 * i + 2] = [count, latest]
    return {team: tuple(values) for team, values in markers.items()}


async def poll_changes(db_url: str, feed: LiveFeed, interval_s: float) -> None:
    """Without a broker: push a "changed" event for each team whose alerts or acknowledgements change."""
    seen = await asyncio.to_thread(change_markers, db_url)
    while True:
        await asyncio.sleep(interval_s)
        markers = await asyncio.to_thread(change_markers, db_url)
        for team in sorted(markers.keys() | seen.keys()):
            if markers.get(team) != seen.get(team):
                feed.push(Event("changed", team, {}))
        seen = markers
