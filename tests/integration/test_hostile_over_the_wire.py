"""10,000 hostile messages over the wire to a running `stridewatch run`, beside a valid stream.

The broker runs the production config with provisioned accounts; the service runs as its own
process, logged in as the service account. Hypothesis draws the attacks (tests/hostile_payloads.py):
wrong types, NaN and Infinity, huge arrays, deep nesting, invalid UTF-8, U+0000 and lone surrogates
in every string field, integers past 64 bits and 1e300, oversized payloads, ids that disagree with the
topic, negative and reused seqs, absurd timestamps, garbage. On each store: PostgreSQL refuses text
that SQLite keeps. Each goes
to its own athlete's topic, so each dead letter is traced to its message. Meanwhile a simulated
team publishes valid traffic. Zero crashes, every hostile message dead-lettered (stored and
published) with a reason, and the valid stream stored complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from ingest.store import Store
from ingest.topics import device_topic
from simulators import fleet, generate, publish
from tests.databases import postgres_database
from tests.deployment import deployed
from tests.hostile_payloads import HOSTILE, Hostile
from tests.ingest_counts import expected_per_team, stored_per_team
from tests.mqtt_helpers import Collector, publish_all, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
N_HOSTILE = 10_000
TEAMS = """
[[teams.hostile.coaches]]
name = "Watcher"
mqtt_login = "watcher"
notify = ["json://127.0.0.1:9/unreachable"]
"""


def draw_hostile(n: int) -> list[Hostile]:
    drawn: list[Hostile] = []

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(HOSTILE)
    def collect(hostile: Hostile) -> None:
        drawn.append(hostile)

    collect()
    return drawn


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ten_thousand_hostile_messages_are_each_dead_lettered_and_valid_traffic_is_complete(
    backend: str, tmp_path: Path, dev_certs: Path
) -> None:
    hostile = draw_hostile(N_HOSTILE)
    assert len(hostile) >= N_HOSTILE
    topics = {device_topic("hostile", f"h{i}", "dev", h.stream): h for i, h in enumerate(hostile)}
    wire = [(device_topic("hostile", f"h{i}", "dev", "steps"), h.prelude) for i, h in enumerate(hostile) if h.prelude]
    wire += [(topic, h.payload) for topic, h in topics.items()]
    valid = list(generate(fleet(4, teams=1, days=14, seed=31), end=SCENARIO_END, seed=31, batch_steps=50))
    expected_valid = expected_per_team(valid)

    (tmp_path / "deploy").mkdir()
    with ExitStack() as stack:
        deployment = stack.enter_context(
            deployed(tmp_path / "deploy", TEAMS, dev_certs, simulator_teams=["hostile", "team-00"])
        )
        db_url = deployment.db_url if backend == "sqlite" else stack.enter_context(postgres_database())
        log_path = tmp_path / "run.log"
        env = os.environ | {"STRIDEWATCH_MQTT_PASSWORD": (deployment.secrets / "stridewatch").read_text().strip()}
        with log_path.open("ab") as log:
            service = subprocess.Popen(
                [sys.executable, "-m", "stridewatch", "-v", "run", "--mqtt-url",
                 f"mqtt://stridewatch@127.0.0.1:{deployment.broker.port}", "--db", db_url,
                 "--client-id", "hostile-run", "--teams", str(tmp_path / "deploy" / "teams.toml")],
                stdout=log, stderr=log, env=env,
            )  # fmt: skip
            try:
                wait_until(lambda: "connected" in log_path.read_text(), timeout=30, what="the service connected")
                with Collector(deployment.url("watcher"), "stridewatch/v1/hostile/deadletter") as published:
                    simulator = deployment.url("simulator")
                    valid_stream = threading.Thread(
                        target=publish, args=(valid,), kwargs={"url": simulator, "progress": False}
                    )
                    valid_stream.start()
                    publish_all(simulator, wire)
                    valid_stream.join()
                    wait_until(
                        lambda: len(published.snapshot()) >= len(topics), timeout=180,
                        what=f"{len(topics)} dead letters published",
                    )  # fmt: skip
                    wait_until(lambda: stored_per_team(db_url).get("team-00") == expected_valid["team-00"],
                               timeout=120, what="the valid stream stored")  # fmt: skip
                assert service.poll() is None, f"the service died: {log_path.read_text()[-2000:]}"
            finally:
                service.terminate()
                service.wait(10)

        with Store(db_url) as store:
            dead = store.dead_letters(team="hostile")
            stored_hostile = store.query("SELECT count(*) FROM step_batches WHERE team = 'hostile'")[0][0]
        reasons = {topic: reason for _team, topic, reason in dead}
        assert len(dead) == len(topics), "a hostile message was dead-lettered twice"
        assert reasons.keys() == topics.keys(), "a hostile message was not dead-lettered"
        for topic, h in topics.items():
            assert reasons[topic], topic
            assert h.reason_has in reasons[topic], (h.kind, reasons[topic])
        assert stored_hostile == sum(1 for h in hostile if h.prelude), "only the valid preludes are stored"
        assert stored_per_team(db_url)["team-00"] == expected_valid["team-00"]
        assert {json.loads(p)["topic"] for _t, p, _r in published.snapshot()} == topics.keys()
        assert "Traceback" not in log_path.read_text()

    kinds = Counter(h.kind for h in hostile)
    print(f"\nhostile messages: {len(hostile)} ({dict(kinds)}); dead-lettered: {len(dead)}; "
          f"valid steps stored: {expected_valid['team-00']['steps']}; crashes: 0")  # fmt: skip
