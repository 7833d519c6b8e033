"""The relay: stored alert events onto their retained risk topics, at least once, in order.

An alert event is stored first (with the checkpoints of the states that produced it) and
published after, with its alert id as an MQTT v5 user property. ``published_at`` stays
NULL until the broker has acknowledged the publication (QoS 1); the acknowledgements are
marked in the service's next unit of work (`mark`). Whoever next scores the athlete
(the same process after a restart, or the worker that takes their partition over)
publishes what is still unmarked (`resend`) in event order, so the retained topic ends on
the latest state. So an event reaches the broker at least once and is stored exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from ingest.store import Unit
from ingest.topics import alert_topic
from stridewatch.risk.alert_store import AlertStore

log = logging.getLogger("stridewatch.risk.relay")
# (topic, payload, alert id) -> paho's MQTTMessageInfo, or None when there is no broker to acknowledge.
Publish = Callable[[str, bytes, str], Any]
MARKS_PER_STATEMENT = 1000


@dataclass(frozen=True)
class Event:
    team: str
    athlete: str
    alert_id: str
    seq: int
    body: str


class Relay:
    """Publishes events and remembers which the broker has not acknowledged yet."""

    def __init__(self, alerts: AlertStore, publish: Publish | None) -> None:
        """``publish`` None: no broker here; events stay unpublished for a process that has one."""
        self._alerts = alerts
        self._publish = publish
        self._in_flight: list[tuple[str, int, Any]] = []  # alert id, seq, message info

    def send(self, events: Iterable[Event]) -> None:
        """Publish ``events`` in order (retained, QoS 1)."""
        if self._publish is None:
            return
        for e in events:
            info = self._publish(alert_topic(e.team, e.athlete), e.body.encode(), e.alert_id)
            # Not accepted by a connected client (paho queues it for the connection, but cannot
            # say when it is acknowledged): it stays unmarked, for the next `resend`.
            if info is None or info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._in_flight.append((e.alert_id, e.seq, info))

    @property
    def unconfirmed(self) -> int:
        return len(self._in_flight)

    def mark(self, unit: Unit) -> None:
        """Mark, with ``unit``, the events the broker has acknowledged since the last call."""
        acked = [info is None or info.is_published() for _, _, info in self._in_flight]
        done = [(a, s) for (a, s, _), ok in zip(self._in_flight, acked, strict=True) if ok]
        if not done:
            return
        self._in_flight = [f for f, ok in zip(self._in_flight, acked, strict=True) if not ok]
        now = int(time.time() * 1000)
        for i in range(0, len(done), MARKS_PER_STATEMENT):  # one statement per batch: one round trip
            chunk = done[i : i + MARKS_PER_STATEMENT]
            unit.write(lambda cur, chunk=chunk: self._alerts.mark_published(cur, chunk, now_ms=now))  # type: ignore[misc]

    def resend(self, whose: Callable[[str, str], bool]) -> int:
        """Publish again, in event order, the unacknowledged events of the athletes ``whose`` accepts."""
        if self._publish is None:
            return 0
        events = [Event(*row) for row in self._alerts.unpublished() if whose(row[0], row[1])]
        self.send(events)
        if events:
            log.info("alert events published again", extra={"events": len(events)})
        return len(events)
