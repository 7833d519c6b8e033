"""The hand-off from paho's network thread to the ingest worker: `Inbox.put` never waits.

paho calls ``on_message`` on its network thread, which must keep running whatever the
worker does: it writes the PUBACKs and PINGREQs, notices a dead connection and
reconnects. A hand-off that waited for room (a bounded ``Queue.put``) stopped it while the
worker was slow or gone: the broker dropped the client for its keepalive, and
``loop_stop`` never returned (issue 17).

Memory is bounded by the messages that can be held at once, two windows of
``window`` (the batch size, which the consumer also sends as its MQTT v5 Receive Maximum):

- the live connection's window: messages received on it and not yet done (acknowledged,
  or for QoS 0 committed). A broker that honours the Receive Maximum never sends more.
  One that does not (Mosquitto 2.0.11 sends a new window for every PUBACK; see
  tests/integration/test_consumer_flow.py) finds `has_room` false once a window is out,
  and the network loop (`ingest.netloop`) reads no more until the worker has done some,
  leaving the rest in TCP's buffers and at the broker. A read pass that began with room
  may still bring one message more per publish of ours awaiting its PUBACK (paho reads
  that many packets a pass);
- the batch in the worker's hands, which may belong to a connection that has died since.

In bytes: ``2 x window`` payloads of at most the broker's ``message_size_limit`` (1 MiB in
deploy/mosquitto; a 50-step message is about 5 KB).

When a connection dies, what it left queued here is dropped: none of it was
acknowledged, so the broker sends it again on the next connection of the persistent
session. What the worker holds of it is committed (the store is idempotent) but never
acknowledged on a later connection, where its packet id need not name the same message.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Delivery", "Inbox"]


@dataclass(frozen=True, slots=True)
class Delivery:
    connection: int  # which connection of the client it came on (`Inbox.connection_lost` counts them)
    mid: int
    qos: int
    topic: str
    payload: bytes
    arrived: float  # time.time() when paho handed it over


class Inbox:
    """Deliveries from paho's network thread to one worker; see the module docstring for the bound."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.peak = 0  # the most messages held at once: queued plus the worker's batch
        self._ready = threading.Condition()
        self._queued: deque[Delivery] = deque()
        self._connection = 0
        self._open = 0  # received on the live connection and not yet done
        self._in_hand = 0  # the worker's batch, whatever connection it came on
        self._closed = False
        # time.time() before which everything received is in the batches taken so far
        self.taken_before = time.time()

    @property
    def backlog(self) -> int:
        """Messages waiting for the worker."""
        return len(self._queued)

    # -- network thread: never waits for the worker ---------------------------------------
    def put(self, mid: int, qos: int, topic: str, payload: bytes) -> None:
        with self._ready:
            if self._closed:  # stopping: unacknowledged, so the broker keeps it
                return
            self._queued.append(Delivery(self._connection, mid, qos, topic, payload, time.time()))
            self._open += 1
            self.peak = max(self.peak, len(self._queued) + self._in_hand)
            self._ready.notify()

    def has_room(self) -> bool:
        """Whether to read more from the broker: less than a window is out on this connection."""
        return self._open < self.window

    def connection_lost(self) -> int:
        """The connection died: drop what it left queued (the broker sends it again); returns how many."""
        with self._ready:
            dropped = len(self._queued)
            self._queued.clear()
            self._connection += 1
            self._open = 0
            return dropped

    # -- worker thread ----------------------------------------------------------------------
    def take(self, limit: int, *, wait_s: float, linger_s: float) -> list[Delivery]:
        """Up to ``limit`` deliveries: waits ``wait_s`` for a first one, then ``linger_s`` for more."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._queued or self._closed, wait_s) or self._closed:
                self.taken_before = time.time()  # nothing came: nothing received is waiting
                return []
            self._ready.wait_for(lambda: len(self._queued) >= limit or self._closed, linger_s)
            batch = [self._queued.popleft() for _ in range(min(limit, len(self._queued)))]
            self._in_hand = len(batch)
            self.taken_before = self._queued[0].arrived if self._queued else time.time()
            return batch

    def done(self, batch: list[Delivery], ack: Callable[[int, int], object]) -> bool:
        """``batch`` is committed: acknowledge what came on the live connection and free its
        slots. True if that opened room the network loop was waiting for.

        The acks go out under the lock, so a connection cannot die between the check and the
        ack (``on_message`` waits for these few microseconds, never for the worker's pace)."""
        with self._ready:
            was_full = not self.has_room()
            live = [d for d in batch if d.connection == self._connection]
            for d in live:
                if d.qos > 0:
                    ack(d.mid, d.qos)
            self._open -= len(live)
            self._in_hand = 0
            return was_full and self.has_room()

    def close(self) -> None:
        """Stop handing over: a waiting `take` returns, later messages stay with the broker."""
        with self._ready:
            self._closed = True
            self._queued.clear()
            self._ready.notify_all()
