"""Scaled out on PostgreSQL: ingest replicas on an MQTT v5 shared subscription, score workers on partitions.

The deployment of docker-compose.yml, in processes: two `stridewatch ingest` replicas on
``$share/ingest/...`` and three `stridewatch score` workers. Workers are killed -9, stopped
and added mid-stream. It must behave exactly like one process: every stored record folded
once, in each athlete's order, and the same alerts as the stored records scored by one
process without a broker.

"The same alerts" is what does not depend on how records happen to be batched into
transactions (which differs between any two runs, even of one process): each athlete's
final state, the worst level reached and the rules that reached high or critical. A live
estimate that crosses a threshold and falls back within one batch is judged once per
batch, so the intermediate updates and the raise time may differ by a batch.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ingest.records import Records, to_record
from ingest.store import Store
from ingest.topics import alert_filter
from simulators import Message, fleet, generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.services.partitions import LOCK_CLASS
from stridewatch.teams import TeamsConfig
from tests.alert_outcomes import alert_outcome
from tests.databases import postgres_database
from tests.ingest_counts import expected_per_team, start_ingest, stored_per_team
from tests.mqtt_helpers import Collector, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
PARTITIONS = 64
TAKEOVER_S = 5.0  # --takeover-after, the default


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def scored_in_process(messages: list[Message], db_file: Path) -> str:
    """The reference: one process, no broker, transactions of 100 messages in publication order."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    with Store(f"sqlite:///{db_file}", synchronous="OFF") as store:
        store.migrate()
        service = RiskPipeline(store, TeamsConfig.default(), lambda _topic, _payload, _id: None)
        for start in range(0, len(messages), 100):
            records = Records()
            for message in messages[start : start + 100]:
                records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=0))
            service.handle(store.write(records, received_at=now))
    return f"sqlite:///{db_file}"


class Deployment:
    """Ingest replicas and score workers as processes (so they can be killed -9 and stopped)."""

    def __init__(self, broker_url: str, db_url: str, logs: Path) -> None:
        self.broker_url, self.db_url, self.logs = broker_url, db_url, logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def ingest(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = start_ingest(self.broker_url, self.db_url, log, name, "--share-group", "ingest",
                                                "--feed", "--health-file", str(self.logs / f"{name}.json"))  # fmt: skip

    def score(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "stridewatch", "-v", "score", "--db", self.db_url, "--mqtt-url",
                 self.broker_url, "--worker", name, "--partitions", str(PARTITIONS), "--takeover-after",
                 str(TAKEOVER_S), "--health-file", str(self.logs / f"{name}.json")],
                stdout=log, stderr=log,
            )  # fmt: skip

    def kill(self, name: str) -> None:
        self.processes[name].kill()
        self.processes[name].wait()

    def running(self, name: str) -> bool:
        return (self.logs / f"{name}.json").exists() and self.processes[name].poll() is None

    def health(self, name: str) -> dict[str, object]:
        return json.loads((self.logs / f"{name}.json").read_text())  # type: ignore[no-any-return]

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            process.wait(15)


class LockWatch:
    """Samples ``pg_locks`` throughout: who holds each partition, and any partition held twice."""

    def __init__(self, db_url: str) -> None:
        self._db = psycopg.connect(db_url, autocommit=True)
        self.holders: dict[int, int] = {}
        self.twice: list[dict[int, list[int]]] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._db.close()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            rows = self._db.execute(
                "SELECT objid::int, pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted",
                (LOCK_CLASS,),
            ).fetchall()
            held: dict[int, list[int]] = {}
            for part, pid in rows:
                held.setdefault(part, []).append(pid)
            if any(len(pids) > 1 for pids in held.values()):
                self.twice.append(held)
            self.holders = {part: pids[0] for part, pids in held.items()}
            self.samples += 1

    def owned_by(self, pid: int) -> set[int]:
        return {part for part, holder in self.holders.items() if holder == pid}


def backend_pid(db_url: str, worker: str) -> int:
    with Store(db_url) as store:
        rows = store.query("SELECT backend_pid FROM score_workers WHERE worker = ?", (worker,))
    return int(rows[0][0]) if rows else 0


def all_folded(db_url: str, expected: dict[str, dict[str, int]]) -> bool:
    """The store holds every message (``expected_per_team``), and every record is folded and its alerts
    published: without the first, this would hold between two commits of a replica that is behind."""
    if stored_per_team(db_url) != expected:
        return False
    with Store(db_url) as store:
        feed, folded, unpublished = store.query(
            "SELECT (SELECT count(*) FROM feed), (SELECT count(*) FROM folded), "
            "(SELECT count(*) FROM alert_events WHERE published_at IS NULL)"
        )[0]
    return bool(feed == folded and unpublished == 0)


def check_feed_and_folds(db_url: str) -> None:
    """One feed row per stored record; each folded once; each athlete's records folded in event order."""
    with Store(db_url) as store:
        feed = dict(store.query("SELECT kind, count(*) FROM feed GROUP BY kind"))
        stored = store.query(
            "SELECT (SELECT count(*) FROM step_batches), (SELECT count(start_ts) FROM sessions), "
            "(SELECT count(end_ts) FROM sessions), (SELECT count(*) FROM wellness)"
        )[0]
        unfolded = store.query(
            "SELECT count(*) FROM feed f WHERE NOT EXISTS (SELECT 1 FROM folded d WHERE d.id = f.id)"
        )
        extra = store.query("SELECT count(*) FROM folded d WHERE NOT EXISTS (SELECT 1 FROM feed f WHERE f.id = d.id)")
        # Within one batch the worker folds in event order; across batches folded_at tells the order.
        folds = store.query(
            "SELECT f.team, f.athlete, f.ts, d.folded_at FROM feed f JOIN folded d ON d.id = f.id "
            "WHERE f.kind <> 'steps' ORDER BY f.team, f.athlete, d.folded_at, f.ts"
        )
    assert (feed.get("steps", 0), feed.get("start", 0), feed.get("end", 0), feed.get("wellness", 0)) == stored
    assert unfolded[0][0] == 0 and extra[0][0] == 0
    backwards = [(a, b) for a, b in itertools.pairwise(folds) if a[:2] == b[:2] and b[2] < a[2]]
    assert backwards == [], f"{len(backwards)} records folded before an earlier one of their athlete"


def check_retained(broker_url: str, db_url: str) -> None:
    """The retained risk topic of each athlete ends on their latest stored event, with its alert id."""
    with Store(db_url) as store:
        rows = store.query(
            "SELECT a.team, a.athlete, e.payload FROM alert_events e JOIN alerts a ON a.alert_id = e.alert_id "
            "ORDER BY e.ts, e.seq"
        )
    latest = {(team, athlete): json.loads(payload) for team, athlete, payload in rows}
    with Collector(broker_url, alert_filter("+")) as retained:
        wait_until(lambda: len(retained.snapshot()) >= len(latest), timeout=20, what="every retained risk topic")
        time.sleep(0.5)
    got = {}
    for (topic, payload, _retain), props in zip(retained.snapshot(), retained.user_properties, strict=True):
        alert = json.loads(payload)
        assert props.get("alert_id") == alert["alert_id"], topic
        got[(alert["team"], alert["athlete"])] = alert
    assert got == latest


@contextmanager
def deployment(
    broker: SpawnedMosquitto, db_url: str, logs: Path, *, replicas: int, workers: int
) -> Iterator[Deployment]:
    with Store(db_url) as store:
        store.migrate()  # before the processes race to
    deployed = Deployment(broker.url, db_url, logs)
    try:
        for i in range(1, replicas + 1):
            deployed.ingest(f"ingest-{i}")
        for i in range(1, workers + 1):
            deployed.score(f"score-{i}")
        for name in deployed.processes:
            wait_until(lambda name=name: deployed.running(name), timeout=30, what=f"{name} running")  # type: ignore[misc]
        yield deployed
    finally:
        deployed.close()


@pytest.mark.timeout(900)
def test_score_workers_killed_and_stopped_mid_stream_score_like_one_process(
    own_broker: SpawnedMosquitto, pg_url: str, tmp_path: Path
) -> None:
    """1,000 athletes stream for about 2 minutes; a worker is killed -9 and restarted, another stopped
    past the takeover time and killed."""
    seeds = list(generate("jump_rope_spike", "restart_runner", end=SCENARIO_END, seed=4, batch_steps=200))
    stream = list(generate(fleet(1000, teams=10, days=3, seed=12), end=SCENARIO_END, seed=12, batch_steps=200))
    messages = seeds + stream
    expected = expected_per_team(messages)
    # The seed athletes' weeks go by at once, then the fleet's three days stream in about two minutes.
    speed = (stream[-1].ts - stream[0].ts) / 1000 / 120
    rng = random.Random(13)
    with ExitStack() as stack:
        deployed = stack.enter_context(deployment(own_broker, pg_url, tmp_path, replicas=2, workers=3))
        watch = stack.enter_context(LockWatch(pg_url))
        wait_until(lambda: len(watch.holders) == PARTITIONS, timeout=20, what="every partition owned")
        publish(seeds, url=own_broker.url, progress=False)
        publisher = threading.Thread(target=publish, args=(stream,),
                                     kwargs={"url": own_broker.url, "progress": False, "speed": speed})  # fmt: skip
        started = time.monotonic()
        publisher.start()
        time.sleep(rng.uniform(10, 40))
        deployed.kill("score-1")  # -9 at a random moment, back at once under the same id
        deployed.score("score-1")
        time.sleep(rng.uniform(10, 20))
        stopped_pid = backend_pid(pg_url, "score-2")
        held = watch.owned_by(stopped_pid)
        assert held, "the worker to stop owned no partition"
        os.kill(deployed.processes["score-2"].pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        wait_until(lambda: not watch.owned_by(stopped_pid) and len(watch.holders) == PARTITIONS, timeout=30,
                   what="the stopped worker's partitions taken over", interval=0.05)  # fmt: skip
        takeover_s = time.monotonic() - stopped_at
        deployed.kill("score-2")
        publisher.join()
        streamed_s = time.monotonic() - started
        wait_until(lambda: all_folded(pg_url, expected), timeout=180, what="every message stored, folded and published")
        assert all(deployed.processes[name].poll() is None for name in ("ingest-1", "ingest-2", "score-1", "score-3"))
        assert watch.twice == [], f"a partition owned twice: {watch.twice[:3]}"
        assert len(watch.owned_by(backend_pid(pg_url, "score-1"))) == PARTITIONS // 2
        check_retained(own_broker.url, pg_url)
    print(f"\n{len(stream)} messages of 1,000 athletes streamed in {streamed_s:.0f} s; "
          f"takeover after SIGSTOP {takeover_s:.1f} s; pg_locks sampled {watch.samples} times")  # fmt: skip
    assert takeover_s < 15
    with Store(pg_url) as store:
        ((events, distinct),) = store.query("SELECT count(*), count(DISTINCT (alert_id, seq)) FROM alert_events")
    assert events == distinct
    reference = alert_outcome(scored_in_process(messages, tmp_path / "reference.db"))
    assert sum(worst in ("high", "critical") for _final, worst, _rules in reference.values()) >= 3
    assert alert_outcome(pg_url) == reference
    check_feed_and_folds(pg_url)


def test_a_worker_that_joins_takes_its_share_and_no_partition_is_owned_twice(
    own_broker: SpawnedMosquitto, pg_url: str, tmp_path: Path
) -> None:
    messages = list(generate(fleet(60, teams=3, days=10, seed=21), end=SCENARIO_END, seed=21, batch_steps=100))
    with ExitStack() as stack:
        deployed = stack.enter_context(deployment(own_broker, pg_url, tmp_path, replicas=1, workers=3))
        watch = stack.enter_context(LockWatch(pg_url))
        wait_until(lambda: len(watch.holders) == PARTITIONS, timeout=20, what="every partition owned")
        names = ("score-1", "score-2", "score-3")

        def shares() -> list[int]:
            return sorted(len(watch.owned_by(backend_pid(pg_url, name))) for name in names)

        wait_until(lambda: shares() == [21, 21, 22], timeout=20, what="three fair shares")
        before = {name: watch.owned_by(backend_pid(pg_url, name)) for name in names}
        publisher = threading.Thread(target=publish, args=(messages,), kwargs={"url": own_broker.url,
                                                                               "progress": False})  # fmt: skip
        publisher.start()
        wait_until(lambda: deployed.health("score-1")["folded"] > 0, timeout=60, what="folding under way")  # type: ignore[operator]
        deployed.score("score-4")
        wait_until(lambda: deployed.running("score-4") and backend_pid(pg_url, "score-4") > 0, timeout=30,
                   what="a fourth worker")  # fmt: skip
        joined = backend_pid(pg_url, "score-4")
        wait_until(lambda: len(watch.owned_by(joined)) == PARTITIONS // 4, timeout=30, what="the fourth's share")
        publisher.join()
        expected = expected_per_team(messages)
        wait_until(lambda: all_folded(pg_url, expected), timeout=120, what="every message stored and folded")
        after = {name: watch.owned_by(backend_pid(pg_url, name)) for name in before}
        assert all(len(parts) == PARTITIONS // 4 for parts in after.values())
        assert all(after[name] <= before[name] for name in before), "partitions moved between the old workers"
        assert watch.twice == [], f"a partition owned twice: {watch.twice[:3]}"
        assert watch.samples > 100
    check_feed_and_folds(pg_url)
    reference = alert_outcome(scored_in_process(messages, tmp_path / "reference.db"))
    assert alert_outcome(pg_url) == reference
