"""A record that scoring cannot take stops neither `stridewatch run` nor a score worker (issue 22).

Scoring has no known such record: the tests make one, by making the risk pipeline fail on one
athlete's records. The service logs it, counts it, and goes on with everyone else; the failing
athlete is scored afresh from the store (run) or passed over once it fails alone (score worker).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ingest import metrics
from ingest.consumer import ConsumerConfig
from ingest.records import Records, to_record
from ingest.store import Store
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.services.run import RunService
from stridewatch.services.score_worker import ScoreConfig, ScoreWorker
from stridewatch.teams import TeamsConfig
from tests.databases import postgres_database
from tests.mqtt_helpers import publish_all, wait_until

pytestmark = pytest.mark.integration
NOW = int(time.time() * 1000) - 3_600_000


def session(athlete: str, n: int = 0) -> list[tuple[str, bytes]]:
    """A short session of ``athlete``: start, a batch, end."""
    topic = f"stridewatch/v1/club/{athlete}/pod/"
    t0 = NOW + n * 60_000
    steps = [{"ts": t0 + 500 * i, "foot": "LR"[i % 2], "cadence_spm": 170.0, "impact_g": 2.5} for i in range(20)]
    return [
        (topic + "session", json.dumps({"session_id": f"s{n}", "event": "start", "ts": t0, "activity": "run"}).encode()),
        (topic + "steps", json.dumps({"session_id": f"s{n}", "seq": n, "steps": steps}).encode()),
        (topic + "session", json.dumps({"session_id": f"s{n}", "event": "end", "ts": t0 + 10_000, "duration_s": 10.0}).encode()),
    ]  # fmt: skip


def failing_on(service: RiskPipeline, athlete: str) -> None:
    """Make ``service`` fail on every batch holding a record of ``athlete``, as a scoring bug would."""
    handle = service.handle

    def broken(records: Records, *args: Any) -> None:
        if any(getattr(r, "athlete", None) == athlete for r in (*records.ordered, *records.duplicates)):
            raise ZeroDivisionError(f"a bug the data of {athlete} found")
        handle(records, *args)

    service.handle = broken  # type: ignore[method-assign]


def test_run_goes_on_past_a_batch_it_cannot_score(own_broker: SpawnedMosquitto, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"
    service = RunService(ConsumerConfig(mqtt_url=own_broker.url, db_url=db, client_id="scoring-fails"),
                         TeamsConfig.default())  # fmt: skip
    failing_on(service.risk, "bad")
    before = metrics.SCORING_FAILURES._value.get()
    service.start()
    try:
        publish_all(own_broker.url, session("bad"))
        wait_until(lambda: metrics.SCORING_FAILURES._value.get() > before, timeout=30, what="the failure")
        publish_all(own_broker.url, session("good", 1))
        wait_until(lambda: service.consumer.health.stored >= 6 and service.consumer.inbox.backlog == 0, timeout=30,
                   what="both stored")  # fmt: skip
        wait_until(lambda: ("club", "good") in service.risk.athletes.loaded(), timeout=30, what="good scored")
        assert service.consumer.health.connected
    finally:
        service.stop()
    with Store(db) as store:
        assert store.query("SELECT count(*) FROM sessions WHERE end_ts IS NOT NULL") == [(2,)]
        states = store.query("SELECT athlete FROM athlete_states ORDER BY athlete")
    assert states == [("good",)], "the failing athlete's checkpoint is dropped: built from the store next time"


def test_a_score_worker_passes_over_what_it_cannot_score_and_folds_the_rest(tmp_path: Path) -> None:
    with postgres_database() as pg:
        with Store(pg, feed=True) as store:
            store.migrate()
            now = int(time.time() * 1000)
            messages = session("bad") + session("good", 1) + session("bad", 2) + session("fine", 3)
            store.write(Records.of(to_record(t, p, now_ms=now, max_future_ms=0) for t, p in messages), received_at=now)
        worker = ScoreWorker(ScoreConfig(db_url=pg, window_ms=0), TeamsConfig.default())
        failing_on(worker.risk, "bad")
        worker.start()
        try:
            wait_until(lambda: worker.health["folded"] >= len(messages), timeout=60, what="every feed row folded")
            assert worker._thread.is_alive()
        finally:
            worker.stop()
        with Store(pg) as store:
            folded = store.query("SELECT count(*) FROM feed f JOIN folded d ON d.id = f.id")[0][0]
            states = store.query("SELECT athlete FROM athlete_states ORDER BY athlete")
    assert folded == len(messages)
    assert states == [("fine",), ("good",)]
