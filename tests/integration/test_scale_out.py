"""Ingest scaled out: replicas on an MQTT v5 shared subscription into PostgreSQL, plus the scoring worker.

The deployment of docker-compose.yml, in processes: two `stridewatch ingest` replicas on
``$share/ingest/...`` and one `stridewatch run` worker. One replica is killed -9 and
restarted mid-stream. It must behave exactly like one process: every message stored
once, and the same alerts as the whole replay scored by one process, without a broker.

"The same alerts" is what does not depend on how messages happen to be batched into
transactions (which differs between any two runs, even of one process): each athlete's
final state, the worst level reached and the rules that reached high or critical. A live
estimate that crosses a threshold and falls back within one batch is judged once per
batch, so the intermediate updates and the raise time may differ by a batch.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.records import Records, to_record
from ingest.store import Store
from simulators import Message, fleet, generate, publish
from stridewatch.broker import SpawnedMosquitto
from stridewatch.service import RiskService
from stridewatch.teams import TeamsConfig
from tests.alert_outcomes import alert_outcome
from tests.databases import postgres_database
from tests.ingest_counts import expected_per_team, start_ingest, stored_per_team, stored_steps
from tests.mqtt_helpers import wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def scored_in_process(messages: list[Message], db_file: Path) -> str:
    """The reference: one process, no broker, transactions of 100 messages in publication order."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    with Store(f"sqlite:///{db_file}", synchronous="OFF") as store:
        store.migrate()
        service = RiskService(store, TeamsConfig.default(), lambda _topic, _payload: None)
        for start in range(0, len(messages), 100):
            records = Records()
            for message in messages[start : start + 100]:
                records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=0))
            store.write(records, received_at=now)
            service.handle(records)
    return f"sqlite:///{db_file}"


def settled(health_file: Path, at_least: int) -> bool:
    if not health_file.exists():
        return False
    health = json.loads(health_file.read_text())
    return health["received"] >= at_least and time.time() - (health["last_batch_done_at"] or 0) > 2.0


def test_two_shared_replicas_and_a_scorer_behave_like_one_process(
    own_broker: SpawnedMosquitto, pg_url: str, tmp_path: Path
) -> None:
    messages = [
        *generate("jump_rope_spike", "restart_runner", "daily_rope_500", end=SCENARIO_END, seed=4, batch_steps=100),
        *generate(fleet(6, teams=2, days=21, seed=12), end=SCENARIO_END, seed=12, batch_steps=100),
    ]
    expected = expected_per_team(messages)
    total = sum(t["steps"] for t in expected.values())
    logs = {name: (tmp_path / f"{name}.log").open("ab") for name in ("a", "b", "scorer")}
    health = {name: tmp_path / f"{name}.json" for name in logs}

    def replica(name: str) -> subprocess.Popen[bytes]:
        return start_ingest(
            own_broker.url, pg_url, logs[name], f"ingest-{name}", "--share-group", "ingest",
            "--health-file", str(health[name]),
        )  # fmt: skip

    scorer = subprocess.Popen(
        [sys.executable, "-m", "stridewatch", "run", "--mqtt-url", own_broker.url, "--db", pg_url,
         "--client-id", "scorer", "--health-file", str(health["scorer"])],
        stdout=logs["scorer"], stderr=logs["scorer"],
    )  # fmt: skip
    processes = {"a": replica("a"), "b": replica("b")}
    try:
        for name in logs:
            wait_until(health[name].exists, timeout=30, what=f"{name} running")
        publisher = threading.Thread(
            target=publish, args=(messages,), kwargs={"url": own_broker.url, "progress": False, "speed": 1_000_000}
        )
        publisher.start()
        rng, kills = random.Random(9), 0
        while kills < 3 or publisher.is_alive():
            time.sleep(rng.uniform(0.3, 1.2))
            processes["a"].kill()  # SIGKILL mid-stream, then back under the same client id
            processes["a"].wait()
            kills += 1
            processes["a"] = replica("a")
        publisher.join()
        wait_until(lambda: stored_steps(pg_url) >= total, timeout=120, what=f"{total} steps stored")
        assert stored_per_team(pg_url) == expected
        stored_by_b = json.loads(health["b"].read_text())["stored"]
        assert 0 < stored_by_b < len(messages), "the shared subscription did not split the load"
        wait_until(lambda: settled(health["scorer"], len(messages)), timeout=120, what="the scorer settled")
        assert all(p.poll() is None for p in (scorer, *processes.values())), "a process died"
    finally:
        for process in (scorer, *processes.values()):
            process.terminate()
            process.wait(10)
        for log in logs.values():
            log.close()
    reference = alert_outcome(scored_in_process(messages, tmp_path / "reference.db"))
    assert sum(worst in ("high", "critical") for _final, worst, _rules in reference.values()) >= 3
    assert alert_outcome(pg_url) == reference
