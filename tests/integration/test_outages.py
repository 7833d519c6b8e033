"""Outages survived mid-stream: PostgreSQL stopped for 10 s, the SQLite disk full.

Each test runs `stridewatch ingest` as its own process against a real broker and checks the
three things an operator needs: nothing lost or doubled, a clear log line, a metric.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators import fleet, generate, publish
from stridewatch.broker.local import SpawnedMosquitto, free_port
from tests.ingest_counts import expected_per_team, start_ingest, stored_per_team, stored_steps
from tests.mqtt_helpers import wait_until
from tests.postgres_server import PrivatePostgres
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration


def metric(port: int, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}(?:{{{re.escape(selector)}}})? (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@dataclass
class Ingesting:
    process: subprocess.Popen[bytes]
    metrics_port: int
    log: Path

    def says(self, text: str) -> bool:
        return text in self.log.read_text()


@contextlib.contextmanager
def ingesting(broker_url: str, db: str, log: Path, client_id: str) -> Iterator[Ingesting]:
    """`stridewatch ingest` serving metrics, connected; it must still be running at the end."""
    port = free_port()
    with log.open("ab") as out:
        running = Ingesting(start_ingest(broker_url, db, out, client_id, "--metrics-port", str(port)), port, log)
        try:
            wait_until(lambda: running.says("connected"), timeout=30, what="ingest connected")
            yield running
            assert running.process.poll() is None, "ingest exited during the outage"
        finally:
            running.process.terminate()
            running.process.wait(10)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.destroy()


def test_postgres_stopped_for_10_s_mid_stream_loses_nothing(
    own_broker: SpawnedMosquitto, private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    replay = list(generate(fleet(6, teams=2, days=21, seed=21), end=SCENARIO_END, seed=21, batch_steps=20))
    expected = expected_per_team(replay)
    total = sum(t["steps"] for t in expected.values())
    db = private_postgres.url
    with ingesting(own_broker.url, db, tmp_path / "ingest.log", "pg-outage") as ingest:
        publisher = threading.Thread(
            target=publish, args=(replay,), kwargs={"url": own_broker.url, "progress": False, "speed": 200_000}
        )
        publisher.start()
        wait_until(lambda: stored_steps(db) > total // 5, timeout=60, what="a fifth of the steps stored")
        private_postgres.stop("immediate")  # a crash, not a polite shutdown
        time.sleep(10)
        private_postgres.start()
        publisher.join()
        wait_until(lambda: stored_steps(db) >= total, timeout=120, what=f"{total} steps stored")
        assert stored_per_team(db) == expected
        assert metric(ingest.metrics_port, "stridewatch_store_failures_total", cause="unavailable") >= 1
        assert metric(ingest.metrics_port, "stridewatch_store_available") == 1
    assert ingest.says("store unavailable, holding messages unacknowledged at the broker")
    assert ingest.says("store available again")


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 1 MiB tmpfs: a real ENOSPC for SQLite, grown later to let the consumer catch up."""
    where = Path(tempfile.mkdtemp(prefix="sw-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"filling a disk needs a small filesystem, and mounting one needs root: {mounted.stderr!r}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)
    where.rmdir()


def test_a_full_sqlite_disk_holds_messages_without_corruption(
    own_broker: SpawnedMosquitto, small_disk: Path, tmp_path: Path
) -> None:
    replay = list(generate(fleet(4, teams=1, days=28, seed=8), end=SCENARIO_END, seed=8, batch_steps=20))
    expected = expected_per_team(replay)
    total = sum(t["steps"] for t in expected.values())
    db_file = small_disk / "stridewatch.db"
    db = f"sqlite:///{db_file}"
    with ingesting(own_broker.url, db, tmp_path / "ingest.log", "disk-full") as ingest:
        publish(replay, url=own_broker.url, progress=False)
        wait_until(lambda: ingest.says("database disk full"), timeout=60, what="the disk filled up")
        assert metric(ingest.metrics_port, "stridewatch_store_failures_total", cause="disk_full") >= 1
        assert metric(ingest.metrics_port, "stridewatch_store_available") == 0
        assert ingest.process.poll() is None, "ingest exited on a full disk"
        subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
        wait_until(lambda: stored_steps(db) >= total, timeout=120, what=f"{total} steps stored")
        assert stored_per_team(db) == expected
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
