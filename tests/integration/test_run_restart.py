"""`stridewatch run` killed -9 mid-stream and restarted resumes from its athletes' checkpoints and
tells the coaches what an uninterrupted run tells them (issue 18)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ingest.store import Store
from simulators import Message, fleet, generate, publish
from stridewatch.broker.local import free_port, mosquitto
from tests.alert_outcomes import RANK, alert_outcome
from tests.ingest_counts import start_ingest
from tests.mqtt_helpers import wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration


def settled(health: Path) -> bool:
    """Nothing handled for 2 s."""
    return health.exists() and time.time() - (json.loads(health.read_text())["last_batch_done_at"] or 0) > 2.0


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def served(workdir: Path, messages: list[Message], *, kills: int) -> str:
    """``messages`` through a `stridewatch run` of its own, killed -9 ``kills`` times while they
    stream; the database it leaves."""
    workdir.mkdir()
    db, health, port = f"sqlite:///{workdir}/run.db", workdir / "health.json", free_port()
    with mosquitto(workdir) as broker, (workdir / "run.log").open("ab") as log:

        def run() -> subprocess.Popen[bytes]:
            health.unlink(missing_ok=True)
            process = start_ingest(broker.url, db, log, "run", "--health-file", str(health),
                                   "--metrics-port", str(port), command="run")  # fmt: skip
            wait_until(health.exists, timeout=60, what="run started")
            return process

        process = run()
        publisher = threading.Thread(target=publish, args=(messages,), kwargs={"url": broker.url, "progress": False})
        publisher.start()
        expected = sum(1 for m in messages if m.stream in ("steps", "session", "wellness"))
        # SIGKILL at random points of the traffic (once that much of it is stored, so every
        # restart has work left), then back under the same client id.
        shares = sorted(random.Random(11).uniform(0.1, 0.9) for _ in range(kills))
        try:
            for share in shares:
                wait_until(lambda: stored(db) >= share * expected, timeout=240, what=f"{share:.0%} stored")  # noqa: B023
                process.kill()
                process.wait()
                process = run()
            publisher.join()
            wait_until(lambda: stored(db) >= expected, timeout=240, what="every message stored")
            wait_until(lambda: settled(health), timeout=240, what="the last batch scored")
            if kills:
                assert metric(port, "stridewatch_athlete_states_loaded_total") > 0, "no state read from a checkpoint"
        finally:
            process.terminate()
            process.wait(15)
    return db


def test_killed_and_restarted_it_alerts_as_an_uninterrupted_run(tmp_path: Path) -> None:
    messages = [
        *generate("jump_rope_spike", "restart_runner", "worn_shoes", end=SCENARIO_END, seed=5, batch_steps=100),
        *generate(fleet(6, teams=2, days=21, seed=5), end=SCENARIO_END, seed=5, batch_steps=100),
    ]
    messages.sort(key=lambda m: m.ts)
    uninterrupted = alert_outcome(served(tmp_path / "uninterrupted", messages, kills=0))
    assert sum(RANK[worst] >= RANK["high"] for _final, worst, _rules in uninterrupted.values()) >= 3
    assert alert_outcome(served(tmp_path / "killed", messages, kills=3)) == uninterrupted


def stored(db: str) -> int:
    with Store(db) as store:
        store.migrate()
        return sum(s.messages for s in store.stats())
