"""`stridewatch run`: the single-machine service: ingest, score live and after each session, publish alerts.

The pipeline (`stridewatch.risk.pipeline`) is the consumer's ``on_commit`` hook, on the
consumer's worker thread, before the batch is acknowledged: alerts keep the order of the
messages, back-pressure reaches the broker, and a batch whose scoring did not finish is
sent again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ingest.consumer import Consumer, ConsumerConfig
from ingest.feed import FeedRecord
from ingest.metrics import SCORING_FAILURES
from ingest.records import Records
from ingest.store import Store, StoreUnavailable
from stridewatch.notify.outbox import Deliverer
from stridewatch.risk.pipeline import REEVALUATE_S, RiskPipeline
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.services.run")


class RunService:
    """The whole single-machine service: consumer, risk pipeline, notification delivery, and a
    re-evaluation of open alerts every ``reevaluate_s`` seconds of wall clock."""

    def __init__(self, config: ConsumerConfig, teams: TeamsConfig, *, reevaluate_s: float = REEVALUATE_S) -> None:
        self._store = Store(config.db_url)
        self._store.migrate()
        self.consumer = Consumer(config, on_commit=self._on_commit)
        self.risk = RiskPipeline(self._store, teams, self._publish)
        self.risk.adopt(lambda _team, _athlete: True)  # one process scores everyone
        self._deliverer = Deliverer(Store(config.db_url), teams=teams)
        # The consumer's worker and the re-evaluation take turns on the risk pipeline and its store.
        self._risk_lock = threading.Lock()
        self._stale = False  # what the risk pipeline holds in memory may be ahead of the store
        self._stopping = threading.Event()
        self._reevaluate_s = reevaluate_s
        self._clock = threading.Thread(target=self._reevaluate_every, name="stridewatch-reevaluate", daemon=True)

    def _publish(self, topic: str, payload: bytes, alert_id: str) -> Any:
        return self.consumer.publish(topic, payload, retain=True, user_properties={"alert_id": alert_id})

    def _on_commit(self, records: Records) -> None:
        """Score a stored batch. When the store fails under it, memory is ahead of the store: it is read
        back before the consumer hands the batch over again. A batch scoring cannot take (a bug the
        data found) is logged and its athletes' states built afresh from the store on their next event:
        no message stops the service."""
        with self._risk_lock:
            self._resync()
            try:
                self.risk.handle(records)
            except StoreUnavailable:
                self._stale = True
                raise
            except Exception:
                log.exception("scoring a stored batch failed; its athletes are scored afresh from the store")
                SCORING_FAILURES.inc()
                self._stale = True
                with contextlib.suppress(Exception):  # what failed may fail this too: logged above
                    self.risk.rebuild({(r.team, r.athlete) for r in (*records.ordered, *records.duplicates)
                                       if isinstance(r, FeedRecord)})  # fmt: skip

    def _resync(self) -> None:
        if self._stale:
            self.risk.forget(lambda _team, _athlete: True)
            self.risk.adopt(lambda _team, _athlete: True)
            self._stale = False

    def _reevaluate_every(self) -> None:
        while not self._stopping.wait(self._reevaluate_s):
            try:
                with self._risk_lock:
                    self._resync()
                    self.risk.reevaluate(int(time.time() * 1000))
            except Exception as exc:  # the store may be down for a while: the next round tries again
                log.warning("re-evaluating open alerts failed", extra={"error": str(exc)})
                self._stale = True

    def start(self) -> None:
        self._deliverer.start()
        self.consumer.start()
        self._clock.start()

    def wait(self, timeout: float | None = None) -> None:
        self.consumer.wait(timeout)

    def stop(self) -> None:
        """Within 8 s, whatever it is doing: the consumer (5 s), the re-evaluation (1 s), notification
        delivery (2 s). The store closes only once nothing uses it."""
        self._stopping.set()
        worker_ended = self.consumer.stop(timeout=5.0)
        if self._clock.is_alive():
            self._clock.join(1.0)
        if worker_ended and not self._clock.is_alive():
            self._store.close()
        self._deliverer.stop(timeout=2.0)
