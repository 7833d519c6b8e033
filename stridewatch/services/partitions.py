"""Which score worker scores which athletes: partitions owned through PostgreSQL advisory locks.

Athletes fall into P fixed partitions (`ingest.feed.partition_of`). A worker owns a
partition while its connection holds the session advisory lock (``LOCK_CLASS``, partition),
so two workers never own one at once, and a worker that dies loses its locks with its
connection. Each worker writes a heartbeat (from a thread of its own, so a long batch is
not mistaken for death); a worker whose heartbeat is older than ``stale_s`` is stopped or cut
off, and the first live worker to notice terminates its backend (``pg_terminate_backend``):
its locks go, and so does any transaction it had open, so it cannot commit after its
partitions moved on. Each live worker then takes its fair share: P over the live workers,
the first ``P mod n`` of them (by id) one more. A worker with more than its share gives the
rest up, always between batches, after its last one is committed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib

from ingest import metrics
from ingest.feed import FeedReader
from ingest.store import Store

log = logging.getLogger("stridewatch.services.partitions")
LOCK_CLASS = 0x5357  # the first key of every partition lock ("SW"); the partition is the second


def _now_ms() -> int:
    return int(time.time() * 1000)


class Partitions:
    """One worker's view of the partitions: those it owns, its heartbeat, its peers."""

    def __init__(self, store: Store, worker: str, *, heartbeat_db: Store, stale_s: float = 5.0) -> None:
        self.worker = worker
        self.owned: set[int] = set()
        self.count = 0
        self._store = store
        self._heartbeat_db = heartbeat_db
        self._stale_ms = int(stale_s * 1000)
        self._backend_pid = 0
        self._started = _now_ms()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeats, name="stridewatch-heartbeat", daemon=True)

    # -- membership -------------------------------------------------------------------
    def join(self, partitions: int) -> None:
        """Register with this connection's backend (after a start or a lost connection): owns nothing yet."""
        self.owned = set()
        self.count = self._settle_count(partitions)
        self._backend_pid = int(self._store.query("SELECT pg_backend_pid()")[0][0])
        self._write_heartbeat(self._store)
        if not self._beat.is_alive():
            self._beat.start()
        metrics.PARTITIONS_OWNED.set(0)

    def leave(self) -> None:
        """Stop the heartbeat and give every partition up (closing the connection would too)."""
        self._stop.set()
        if self._beat.is_alive():
            self._beat.join(2.0)
        if not self._beat.is_alive():
            self._heartbeat_db.close()
        try:
            self._store.query("SELECT pg_advisory_unlock_all()")
            self._store.query("DELETE FROM score_workers WHERE worker = ?", (self.worker,))
        finally:
            self.owned = set()

    def _settle_count(self, partitions: int) -> int:
        stored = int(self._store.query("SELECT partitions FROM scoring_partitions")[0][0])
        if stored == partitions:
            return stored
        if FeedReader(self._store).is_empty():
            self._store.query("UPDATE scoring_partitions SET partitions = ?", (partitions,))
            log.warning("scoring partitions changed", extra={"from": stored, "to": partitions})
            return partitions
        raise ValueError(
            f"the store's feed is split into {stored} partitions, not {partitions}: use --partitions {stored} "
            "(to change it, stop every ingest and score process and empty the feed)"
        )

    def _heartbeats(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._write_heartbeat(self._heartbeat_db)
            except Exception as exc:  # the store may be away for a while: the main loop notices too
                log.warning("heartbeat failed", extra={"error": str(exc)})

    def _write_heartbeat(self, store: Store) -> None:
        store.query(
            "INSERT INTO score_workers (worker, backend_pid, heartbeat_at, parts, started_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (worker) DO UPDATE SET backend_pid = excluded.backend_pid, "
            "heartbeat_at = excluded.heartbeat_at, parts = excluded.parts",
            (self.worker, self._backend_pid, _now_ms(), json.dumps(sorted(self.owned)), self._started),
        )

    # -- balance ----------------------------------------------------------------------
    def fence(self) -> list[str]:
        """Cut off every worker whose heartbeat is stale: its backend ends, and with it its locks."""
        rows = self._store.query(
            "SELECT worker, backend_pid FROM score_workers WHERE heartbeat_at < ? AND worker <> ?",
            (_now_ms() - self._stale_ms, self.worker),
        )
        for worker, pid in rows:
            # Only a backend that is still the one it registered: its pid could have been reused.
            self._store.query(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE pid = ? AND locktype = 'advisory' "
                "AND classid = ? GROUP BY pid",
                (pid, LOCK_CLASS),
            )
            self._store.query("DELETE FROM score_workers WHERE worker = ? AND backend_pid = ?", (worker, pid))
            log.warning("score worker stopped answering: cut off", extra={"worker": worker, "backend_pid": pid})
        return [worker for worker, _ in rows]

    def share(self) -> int:
        """This worker's fair share of the partitions among the live workers."""
        live = sorted(
            w for (w,) in self._store.query(
                "SELECT worker FROM score_workers WHERE heartbeat_at >= ?", (_now_ms() - self._stale_ms,)
            )
        )  # fmt: skip
        if self.worker not in live:
            live = sorted([*live, self.worker])
        base, extra = divmod(self.count, len(live))
        return base + (1 if live.index(self.worker) < extra else 0)

    def rebalance(self) -> tuple[list[int], list[int]]:
        """Take or give up partitions towards the fair share; (taken, given up)."""
        target = self.share()
        given: list[int] = []
        taken: list[int] = []
        if len(self.owned) > target:
            given = sorted(self.owned, key=self._preference)[target:]
            for part in given:
                self._store.query("SELECT pg_advisory_unlock(?, ?)", (LOCK_CLASS, part))
                self.owned.discard(part)
        elif len(self.owned) < target:
            held = {
                p
                for (p,) in self._store.query(
                    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND granted",
                    (LOCK_CLASS,),
                )
            }
            free = sorted((p for p in range(self.count) if p not in held), key=self._preference)
            for part in free:
                if len(self.owned) >= target:
                    break
                if self._store.query("SELECT pg_try_advisory_lock(?, ?)", (LOCK_CLASS, part))[0][0]:
                    self.owned.add(part)
                    taken.append(part)
        if taken or given:
            log.info("partitions moved", extra={"worker": self.worker, "taken": len(taken), "given": len(given),
                                                "owned": len(self.owned)})  # fmt: skip
            metrics.PARTITIONS_OWNED.set(len(self.owned))
        return taken, given

    def _preference(self, part: int) -> int:
        """A worker's own order of the partitions: workers reach for different ones first."""
        return zlib.crc32(f"{self.worker}/{part}".encode())
