"""`stridewatch score`: a scoring worker of a scaled-out deployment, fed by what ingest committed.

Ingest replicas store every record once in PostgreSQL and feed it (`ingest.feed`). Score
workers split the athletes' partitions between them (`stridewatch.services.partitions`) and each
folds its partitions' feeds through the same `RiskPipeline` as `stridewatch run`: it reads
the rows above its cursors and below ``pg_snapshot_xmin`` (so a transaction that commits
late is never skipped), folds each record as soon as nothing before it can still be on its
way (the replicas' commit marks, and each device's seq: `stridewatch.services.reorder`), and folds a
batch in event order. One transaction per batch holds the athletes' state
checkpoints, the alert events, the notification outbox rows, the processed log
(``folded``: a record folded twice breaks its key) and the cursors' advance, compared and
set (a cut-off worker's late commit finds its cursor moved and rolls back). Alerts reach
MQTT through the relay (`stridewatch.risk.relay`).

A worker that loses its connection has lost its locks: it forgets everything it held in
memory, rejoins, and takes its share again from the checkpoints and cursors. Polling the
feed every ``POLL_S`` when idle costs two indexed queries (the marks, the feed); no
LISTEN/NOTIFY is needed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import metrics
from ingest.consumer import wait_stopped
from ingest.feed import CursorMoved, FeedReader, decode, partition_of
from ingest.mqtt import BrokerAddress, connect_blocking, make_client, publish_v5
from ingest.records import Records
from ingest.store import Store, StoreUnavailable
from stridewatch.notify.outbox import Deliverer
from stridewatch.risk.pipeline import REEVALUATE_S, RiskPipeline
from stridewatch.services.partitions import Partitions
from stridewatch.services.reorder import FeedBuffer, Row
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.services.score_worker")
FETCH_ROWS = 2_000  # feed rows per read, about
FETCH_PART_ROWS = 100  # and at least this many of each partition
FOLD_ROWS = 1_000  # records per batch transaction, about
BUFFERED_ROWS = 20_000  # read ahead no further
POLL_S = 0.1
BALANCE_S = 1.0
RETAIN_MS = 3_600_000  # folded feed rows (and their processed log) are kept this long, then pruned
PRUNE_S = 60.0
MARKS_RETAIN_MS = 60_000  # the replicas' commit marks: read every poll, so kept few


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, kw_only=True)
class ScoreConfig:
    db_url: str
    mqtt_url: str | None = None
    worker: str = ""
    partitions: int = 64
    window_ms: int = 5_000
    stale_s: float = 5.0
    reevaluate_s: float = REEVALUATE_S
    health_file: Path | None = None
    capacity: int = 5_000

    def __post_init__(self) -> None:
        if not self.db_url.startswith(("postgresql:", "postgres:")):
            raise ValueError("score workers share their partitions through PostgreSQL: give --db postgresql://...")
        if not 1 <= self.partitions <= 4096:
            raise ValueError("partitions must be 1..4096")


class ScoreWorker:
    """Run with `start` then `wait`; `stop` ends it within its timeout."""

    def __init__(self, config: ScoreConfig, teams: TeamsConfig) -> None:
        self.config = config
        self.worker = config.worker or default_worker_id()
        self._store = Store(config.db_url)
        self._store.migrate()
        self._client = None
        if config.mqtt_url is not None:
            address = BrokerAddress.parse(config.mqtt_url)
            self._client = make_client(address, client_id=f"stridewatch-score-{self.worker}")
            self._address = address
        publish = None if self._client is None else self._publish
        self.risk = RiskPipeline(self._store, teams, publish, capacity=config.capacity)
        self.partitions = Partitions(
            self._store, self.worker, heartbeat_db=Store(config.db_url), stale_s=config.stale_s
        )
        self.buffer = FeedBuffer(window_ms=config.window_ms)
        self.feed = FeedReader(self._store)
        self._deliverer = Deliverer(Store(config.db_url), teams=teams)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="stridewatch-score", daemon=True)
        self._joined = False
        self._fatal: BaseException | None = None
        self._replicas: list[str] = []  # the ingest replicas that have marked their commits
        self._folding: list[Row] = []  # the rows of the fold in hand
        self._suspect: set[int] = set()  # feed ids of folds that failed: folded one athlete at a time
        self._poison: set[int] = set()  # feed ids that failed alone: passed over
        self._clock_offset_ms = 0
        self._due = {"balance": 0.0, "prune": 0.0, "confirm": 0.0, "health": 0.0}
        self._next_reevaluate = time.monotonic() + config.reevaluate_s
        self.health: dict[str, Any] = {"worker": self.worker, "connected": False, "partitions": 0, "folded": 0, "late": 0,
                                       "gaps": 0, "past_deadline": 0,
                                       "last_batch_done_at": None, "store_errors": 0}  # fmt: skip

    def _publish(self, topic: str, payload: bytes, alert_id: str) -> Any:
        assert self._client is not None
        return publish_v5(self._client, topic, payload, retain=True, user_properties={"alert_id": alert_id})

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        if self._client is not None:
            connect_blocking(self._client, self._address)
        self._deliverer.start()
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        wait_stopped(self._stop, timeout, lambda: self._fatal)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand, give the partitions up and close, within ``timeout`` s."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(max(0.1, timeout - 2.0))
        if not self._thread.is_alive():
            with contextlib.suppress(StoreUnavailable):  # closing the connection gives the locks up as well
                self.partitions.leave()
            self._store.close()
        self._deliverer.stop(timeout=1.0)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    # -- the loop ---------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._joined:
                    self.partitions.join(self.config.partitions)
                    self._joined = True
                    self.health["connected"] = True
                self._step()
            except (StoreUnavailable, CursorMoved) as exc:
                log.warning("lost the store or a partition: starting over from the store", extra={"error": str(exc)})
                self.health["store_errors"] += 1
                self.health["connected"] = False
                self._start_over()
                self._stop.wait(1.0)
            except Exception as exc:
                if not self._folding:  # not a record's doing: the worker cannot work
                    log.exception("score worker cannot work, stopping")
                    self._fatal = exc
                    self._stop.set()
                    continue
                # No record may stop the worker: the rows being folded are folded again one athlete at
                # a time, and an athlete whose rows fail alone are passed over (`_fold`).
                failed = {row.id for row in self._folding}
                log.exception("scoring failed: starting over from the store", extra={"rows": len(failed)})
                metrics.SCORING_FAILURES.inc()
                if failed <= self._suspect:
                    self._poison |= failed
                self._suspect |= failed
                self._start_over()
                self._stop.wait(1.0)
            self._write_health()

    def _start_over(self) -> None:
        """Drop everything held in memory and the connection (and so every lock): the store has it all."""
        self._folding = []
        self.risk.forget(lambda _team, _athlete: True)
        self.buffer = FeedBuffer(window_ms=self.config.window_ms)
        self.partitions.owned = set()
        metrics.PARTITIONS_OWNED.set(0)
        self._store.close()
        self._joined = False

    def _step(self) -> None:
        now = time.monotonic()
        if now >= self._due["balance"]:
            self._balance()
            self._due["balance"] = now + BALANCE_S
        known = self._known_ms()  # before the read: every record stored up to it is in the read
        if len(self.buffer) < BUFFERED_ROWS and self.partitions.owned:
            self.buffer.add(self._fetch())
        ready = self.buffer.ready(now_ms=self._db_now_ms(), known_ms=known, limit=FOLD_ROWS)
        if ready:
            self._fold(ready)
            return
        if now >= self._next_reevaluate:
            self.risk.reevaluate(int(time.time() * 1000))
            self._next_reevaluate = now + self.config.reevaluate_s
        if self.risk.unconfirmed and now >= self._due["confirm"]:
            self.risk.confirm()
            self._due["confirm"] = now + 1.0
        if now >= self._due["prune"]:
            self._prune()
            self._due["prune"] = now + PRUNE_S
        next_ms = self.buffer.next_ready_ms()
        wait = POLL_S if next_ms is None else min(POLL_S, max(0.0, (next_ms - self._db_now_ms()) / 1000))
        metrics.FEED_LAG.set(0 if next_ms is None else max(0.0, self._db_now_ms() - next_ms) / 1000)
        self._stop.wait(wait)

    def _balance(self) -> None:
        self._replicas = self.feed.replicas()
        self._clock_offset_ms = self._store.clock_offset_ms()
        self.partitions.fence()
        taken, given = self.partitions.rebalance()
        count = self.partitions.count
        if given:
            gone = set(given)
            for part in given:
                self.buffer.close(part)
            self.risk.forget(lambda team, athlete: partition_of(team, athlete, count) in gone)
        if taken:
            for part, cursor in self.feed.cursors(taken, worker=self.worker, now_ms=int(time.time() * 1000)).items():
                self.buffer.open(part, cursor)
            new = set(taken)
            self.risk.adopt(lambda team, athlete: partition_of(team, athlete, count) in new)
        self.health["partitions"] = len(self.partitions.owned)

    def _db_now_ms(self) -> int:
        return int(time.time() * 1000) + self._clock_offset_ms

    def _known_ms(self) -> int:
        """The time (the database's clock) up to which every record stored is committed and visible: the
        oldest of the live replicas' commit marks that the feed's next read can see (below
        ``pg_snapshot_xmin``). A replica that has marked nothing for the reorder window is taken as gone."""
        now = self._db_now_ms()
        marks = self.feed.marks(self._replicas)
        live = [visible or 0 for _, heard, visible in marks if heard > now - self.config.window_ms]
        return min(live, default=now)

    def _fetch(self) -> list[Row]:
        positions = self.buffer.read_from()
        rows = self.feed.read(positions, per_part=max(FETCH_PART_ROWS, FETCH_ROWS // max(1, len(positions))))
        read, unreadable = [], []
        for i, p, x, k, ts, at, record, data in rows:
            try:
                read.append(Row(id=i, part=p, xid=x, kind=k, ts=ts, received_at=at, record=decode(k, record, data)))
            except (ValueError, TypeError, KeyError) as exc:  # its steps are gone, or a row no release wrote
                log.error("feed row cannot be read, passed over", extra={"id": i, "error": repr(exc)})
                metrics.SCORING_FAILURES.inc()
                unreadable.append((i, p))
        if unreadable:
            self.feed.pass_over(unreadable, worker=self.worker, now_ms=int(time.time() * 1000))
        return read

    def _fold(self, rows: list[Row]) -> None:
        """Fold ``rows`` in one transaction; rows that made scoring fail before are folded one athlete at
        a time, and an athlete's rows that made it fail alone are passed over (logged, counted, and the
        athlete scored afresh from the store on its next record)."""
        if not any(row.id in self._suspect for row in rows):
            self._fold_batch(rows)
            return
        athletes: dict[tuple[str, str], list[Row]] = {}
        for row in rows:
            athletes.setdefault(row.athlete, []).append(row)
        for own in athletes.values():
            self._fold_batch(own, score=not any(row.id in self._poison for row in own))

    def _fold_batch(self, rows: list[Row], *, score: bool = True) -> None:
        self._folding = rows
        records = Records.of(row.record for row in rows)
        moves = self.buffer.fold(rows)
        unit = self._store.unit()
        if score:
            self.risk.handle(records, unit)
        else:
            log.error("feed records passed over: scoring fails on them", extra={"ids": [row.id for row in rows]})
            self.risk.rebuild({row.athlete for row in rows})
        self.feed.folded(unit, [(row.id, row.part) for row in rows], moves, worker=self.worker,
                         now_ms=int(time.time() * 1000))  # fmt: skip
        unit.commit()
        self._folding = []
        metrics.FEED_FOLDED.inc(len(rows))
        counts, waits = self.buffer.taken()
        metrics.FEED_LATE.inc(counts["late"])
        metrics.FEED_GAPS.inc(counts["gaps"])
        metrics.FEED_PAST_DEADLINE.inc(counts["past_deadline"])
        for waited in waits:
            metrics.FEED_GAP_WAIT.observe(waited / 1000)
        for name in ("late", "gaps", "past_deadline"):
            self.health[name] += counts[name]
        self.health["folded"] += len(rows)
        self.health["last_batch_done_at"] = time.time()

    def _prune(self) -> None:
        """Delete the owned partitions' feed rows folded more than ``RETAIN_MS`` ago, with their log, and
        the replicas' older commit marks."""
        parts = sorted(self.partitions.owned)
        if parts:
            now = self._db_now_ms()
            self.feed.prune(parts, folded_before=now - RETAIN_MS, marks_before=now - MARKS_RETAIN_MS)

    def _write_health(self) -> None:
        now = time.monotonic()
        if self.config.health_file is None or now < self._due["health"]:
            return
        self._due["health"] = now + 1.0
        connected = self.health["connected"] and (self._client is None or self._client.is_connected())
        tmp = self.config.health_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.health | {"connected": connected}))
        tmp.replace(self.config.health_file)
