"""The lossless MQTT consumer: validate, store once, then acknowledge.

paho's ``on_message`` runs on the network thread and only hands the message to an
`Inbox`, which never waits; one worker thread validates, commits a batch in one
transaction, runs the ``on_commit`` hook (the service's scoring), and only then
acknowledges the batch's messages in arrival order (``manual_ack``). The v5 Receive Maximum equals the batch size, and the network loop
(`NetworkLoop`) reads no more than that from the broker while the worker is behind, so
memory stays within two batches however large the broker's backlog and whether or not
the broker honours the Receive Maximum (`ingest.inbox` derives the bound). A consumer
killed at any moment loses nothing: the broker still holds every unacknowledged message
of the persistent session and sends it again; the idempotent store drops what it already
had. `Consumer.stop` ends it within its timeout whatever the worker is doing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest import metrics
from ingest.errors import IngestError
from ingest.inbox import Delivery, Inbox
from ingest.intake import Arrived, store_batch
from ingest.mqtt import BrokerAddress, BrokerError, connect_blocking, make_client, publish_v5
from ingest.netloop import NetworkLoop
from ingest.records import Records, to_record
from ingest.store import DEFAULT_DB, Mark, Store, StoreUnavailable
from ingest.topics import DEVICE_FILTER, deadletter_topic, shared

log = logging.getLogger("stridewatch.ingest")
FAILED_ATTEMPTS = 3  # a batch failing this often for no known reason: what fails is dead-lettered


class ConfigError(IngestError, ValueError):
    """A consumer configuration that would lose messages or cannot work."""


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig:
    mqtt_url: str
    db_url: str = DEFAULT_DB
    client_id: str = "stridewatch-ingest"
    persistent: bool = True
    share_group: str | None = None
    batch_size: int = 500
    linger_s: float = 0.02
    session_expiry_s: int = 7 * 24 * 3600
    max_future_s: float = 6 * 3600
    health_file: Path | None = None
    keepalive_s: int = 30
    feed: bool = False  # feed `stridewatch score` workers (PostgreSQL): set on a scaled-out deployment's replicas

    def __post_init__(self) -> None:
        if self.persistent and not self.client_id:
            # telegraf#797: a persistent session under a random id is abandoned on every reconnect.
            raise ConfigError("a persistent session needs a fixed client id (--client-id)")
        if not 1 <= self.batch_size <= 65535:
            raise ConfigError("batch size must be 1..65535 (it is also the MQTT v5 Receive Maximum)")
        if not 1 <= self.keepalive_s <= 65535:
            raise ConfigError("keepalive must be 1..65535 s")
        BrokerAddress.parse(self.mqtt_url)


@dataclass
class Health:
    """The "is it working" signal: written to ``health_file`` and logged."""

    connected: bool = False
    started_at: float = field(default_factory=time.time)
    last_message_at: float | None = None
    last_commit_at: float | None = None
    last_batch_done_at: float | None = None  # committed, acknowledged and handled by ``on_commit``
    received: int = 0
    stored: int = 0
    dead_letters: int = 0
    store_errors: int = 0
    reconnects: int = 0
    store_available: bool = True


def wait_stopped(stop: threading.Event, timeout: float | None, fatal: Callable[[], BaseException | None]) -> None:
    """Wait for ``stop`` (in short steps, so that signals get through), then raise what ``fatal`` gives, if any."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            return
        stop.wait(0.2)
    if (error := fatal()) is not None:
        raise error


class Consumer:
    """Run with `start` then `wait`; ``on_commit`` sees every committed batch (the alert service hooks in there)."""

    def __init__(self, config: ConsumerConfig, *, on_commit: Callable[[Records], None] | None = None) -> None:
        self.config = config
        self.health = Health()
        self._on_commit = on_commit
        self._address = BrokerAddress.parse(config.mqtt_url)
        self.inbox = Inbox(config.batch_size)
        self._stop = threading.Event()
        self._health_written = 0.0
        self._fatal: BaseException | None = None
        self._worker = threading.Thread(target=self._work, name="stridewatch-ingest", daemon=True)
        self._client = make_client(self._address, client_id=config.client_id, manual_ack=True)
        self._network = NetworkLoop(
            self._client, can_read=self.inbox.has_room, name="stridewatch-mqtt", on_crash=self._die
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._store = Store(config.db_url, feed=config.feed)
        # Score workers fold a record once every replica has marked it committed (`ingest.feed.write_mark`):
        # an idle replica marks often, so that it holds no one back.
        self._marks = config.feed and self._store.dialect.name == "postgresql"
        self._idle_s = 0.1 if self._marks else 0.5
        self._clock_offset_ms = 0  # the database's clock minus this machine's: times in the feed are the database's

    @property
    def subscription(self) -> str:
        return shared(DEVICE_FILTER, self.config.share_group)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        version = self._store.migrate()
        if self._marks:
            self._clock_offset_ms = self._store.clock_offset_ms()
        log.info("store ready", extra={"db": self._store.safe_url, "schema_version": version})
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.ReceiveMaximum = self.config.batch_size
        props.SessionExpiryInterval = self.config.session_expiry_s if self.config.persistent else 0
        self._worker.start()
        connect_blocking(
            self._client,
            self._address,
            loop=self._network,
            clean_start=not self.config.persistent,
            properties=props,
            keepalive=self.config.keepalive_s,
        )

    def wait(self, timeout: float | None = None) -> None:
        """Block until stopped; re-raise whatever made the consumer unable to work."""
        wait_stopped(self._stop, timeout, lambda: self._fatal)

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop within ``timeout`` s whatever the worker is doing: it finishes the batch in hand
        if it can (committed, acknowledged) and else abandons it unacknowledged, so the broker
        keeps it; then the connection closes, and the store. True if the worker has ended
        (False: it is stuck in the store or in ``on_commit``, whose store must stay open)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self.inbox.close()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(max(0.0, deadline - time.monotonic() - 1.0))  # the last second is the network's
        self._network.loop_stop(max(0.1, deadline - time.monotonic()))
        if self._worker.is_alive():
            log.warning("stopped with the worker still busy; what it has not acknowledged, the broker sends again")
            return False
        self._store.close()
        return True

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, user_properties: dict[str, str] | None = None
    ) -> mqtt.MQTTMessageInfo:
        """Publish at QoS 1 on the consumer's connection (paho queues it while reconnecting)."""
        return publish_v5(self._client, topic, payload, retain=retain, user_properties=user_properties)

    def _die(self, error: BaseException) -> None:
        log.error("consumer cannot work, stopping", extra={"error": str(error)})
        self._fatal = error
        self._stop.set()

    # -- network thread: hand over only, never wait ----------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            if reason.value in (134, 135, 138):  # bad credentials, not authorized, banned: retrying cannot help
                self._die(BrokerError(f"the broker refused the consumer: {reason}"))
            return
        self.health.connected = True
        metrics.BROKER_CONNECTED.set(1)
        log.info("connected", extra={"broker": str(self._address), "session_present": flags.session_present})
        client.subscribe(self.subscription, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            self._die(BrokerError(f"the broker refused the subscription {self.subscription}: {failed[0]}"))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        dropped = self.inbox.connection_lost()
        # paho reports a keepalive loss twice; a refused CONNECT was no connection to lose.
        was_connected, self.health.connected = self.health.connected, False
        metrics.BROKER_CONNECTED.set(0)
        if was_connected and not self._stop.is_set():
            self.health.reconnects += 1
            metrics.BROKER_DISCONNECTS.inc()
            log.warning(
                "disconnected from the broker, reconnecting", extra={"reason": str(reason), "left_to_broker": dropped}
            )

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(msg.mid, msg.qos, msg.topic, bytes(msg.payload))

    # -- worker thread ------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                batch = self.inbox.take(self.config.batch_size, wait_s=self._idle_s, linger_s=self.config.linger_s)
                if batch:
                    self._commit(batch)
                elif self._marks:  # idle: nothing received is waiting, say so to the score workers
                    self._until_done(lambda: self._store.mark(self._mark()), "marking")
                self._write_health()
        except BaseException as exc:  # a worker that dies silently is the worst outcome (faust#175)
            self._die(exc)

    def _commit(self, batch: list[Delivery]) -> None:
        now = time.time()
        now_ms = int(now * 1000) + self._clock_offset_ms
        self.health.received += len(batch)
        metrics.RECEIVED.inc(len(batch))
        self.health.last_message_at = now
        max_future_ms = int(self.config.max_future_s * 1000)
        arrived = [
            Arrived(item.topic, item.payload, to_record(item.topic, item.payload, now_ms=now_ms,
                                                        max_future_ms=max_future_ms))
            for item in batch
        ]  # fmt: skip
        written = self._write_until_stored(arrived, now_ms)
        if written is None:
            return  # stopping: the batch stays unacknowledged at the broker
        self.health.stored += len(batch) - len(written.dead)
        metrics.STORED.inc(len(batch) - len(written.dead))
        metrics.DUPLICATES.inc(len(written.duplicates))
        self.health.dead_letters += len(written.dead)
        self.health.last_commit_at = time.time()
        for dead in written.dead:
            log.info("dead letter", extra={"topic": dead.topic, "reason": dead.reason})
            metrics.DEAD_LETTERS.labels(metrics.dead_letter_cause(dead.reason)).inc()
            if dead.team:
                body = {
                    "ts": now_ms,
                    "topic": dead.topic,
                    "reason": dead.reason,
                    "payload_excerpt": dead.payload_excerpt,
                }
                self.publish(deadletter_topic(dead.team), json.dumps(body).encode())
        # Before the acknowledgement: what the hook commits (alerts, scoring checkpoints) is
        # part of handling the batch, and a batch whose hook did not finish comes again.
        hook = self._on_commit
        if hook is not None and not self._until_done(lambda: hook(written), "handling"):
            return
        if self.inbox.done(batch, self._client.ack):
            self._network.wake()  # it stopped reading while a window was out
        self.health.last_batch_done_at = time.time()

    def _write_until_stored(self, batch: list[Arrived], now_ms: int) -> Records | None:
        """Nothing is acknowledged until the store has it: while the database is down, wait
        (None if the consumer is stopped meanwhile). A batch the store keeps failing for no known
        reason is written with what fails dead-lettered after ``FAILED_ATTEMPTS`` (`ingest.intake`)."""
        written: list[Records] = []
        failures = 0

        def write() -> None:
            nonlocal failures
            try:
                written.append(store_batch(self._store, batch, received_at=now_ms, any_error=failures >= FAILED_ATTEMPTS,
                                           mark=self._mark() if self._marks else None))  # fmt: skip
            except StoreUnavailable:
                raise
            except Exception as exc:  # neither an outage nor the data, as far as anyone can tell
                failures += 1
                raise StoreUnavailable(f"storing the batch failed ({failures}): {exc!r}", cause="unknown") from exc

        return written[0] if self._until_done(write, "storing") else None

    def _mark(self) -> Mark:
        return Mark(self.config.client_id, int(self.inbox.taken_before * 1000) + self._clock_offset_ms)

    def _until_done(self, work: Callable[[], None], what: str) -> bool:
        """Run ``work`` until it gets past the store's outages, waiting longer each time (False if
        stopped meanwhile)."""
        delay = 0.5
        while True:
            try:
                work()
            except StoreUnavailable as exc:
                self.health.store_errors += 1
                self.health.store_available = False
                metrics.STORE_FAILURES.labels(exc.cause).inc()
                metrics.STORE_AVAILABLE.set(0)
                problem = {"disk_full": "database disk full", "unknown": f"{what} failed"}.get(
                    exc.cause, "store unavailable"
                )
                log.warning(
                    f"{problem}, holding messages unacknowledged at the broker",
                    extra={"cause": exc.cause, "error": str(exc), "retry_in_s": delay},
                )
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, 30.0)
                continue
            if not self.health.store_available:
                log.warning("store available again", extra={"errors": self.health.store_errors})
            self.health.store_available = True
            metrics.STORE_AVAILABLE.set(1)
            return True

    def _write_health(self) -> None:
        path = self.config.health_file
        if path is not None and time.monotonic() - self._health_written >= 1.0:
            self._health_written = time.monotonic()
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self.health) | {"backlog": self.inbox.backlog}))
            tmp.replace(path)
