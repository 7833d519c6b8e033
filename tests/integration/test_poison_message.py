"""A message no store can keep stops nothing (issue 22): the ten bytes ``ff fe 00 67 61 72 62 61 67 65``,
a note holding ``\\u0000`` and one holding a lone surrogate, each waiting in the broker session while
the service restarts. `stridewatch ingest` and `run` on both stores, and a scaled-out deployment on
PostgreSQL: every process stays up, each poison is one dead letter with its reason and its bytes, and
the valid messages sent after them are stored (and scored)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.store import Store
from stridewatch.broker.local import SpawnedMosquitto
from tests.databases import postgres_database
from tests.ingest_counts import start_ingest
from tests.integration.test_scale_out import all_folded, deployment
from tests.mqtt_helpers import publish_all, wait_until

pytestmark = pytest.mark.integration
NOW = int(time.time() * 1000) - 60_000
POISONS = [
    ("steps", bytes.fromhex("fffe0067617262616765"),
     "payload: not valid UTF-8 JSON (invalid UTF-8: byte 0xff at offset 0)"),
    ("wellness", json.dumps({"ts": NOW, "note": "sore\u0000"}).encode(), "note: must not contain U+0000 (NUL)"),
    ("wellness", b'{"ts": %d, "note": "\\ud800"}' % NOW, "a string holds a lone surrogate escape"),
]  # fmt: skip


def poison_and_valid(athlete: str) -> list[tuple[str, bytes]]:
    """The poisons on ``athlete``'s topics, then a valid session of hers: start, two batches, end."""
    topic = f"stridewatch/v1/club/{athlete}/pod/"
    steps = [{"ts": NOW + 1000 * i, "foot": "LR"[i % 2], "cadence_spm": 170.0, "impact_g": 2.5} for i in range(20)]
    valid = [
        ("session", {"session_id": "s1", "event": "start", "ts": NOW, "activity": "run"}),
        ("steps", {"session_id": "s1", "seq": 0, "steps": steps[:10]}),
        ("steps", {"session_id": "s1", "seq": 1, "steps": steps[10:]}),
        ("session", {"session_id": "s1", "event": "end", "ts": NOW + 20_000, "duration_s": 20.0}),
    ]
    return [(topic + stream, raw) for stream, raw, _ in POISONS] + [
        (topic + s, json.dumps(b).encode()) for s, b in valid
    ]


def check_stored(db_url: str, athletes: int) -> None:
    with Store(db_url) as store:
        dead = store.query("SELECT reason, payload FROM dead_letters ORDER BY id")
        batches = store.query("SELECT count(*) FROM step_batches")[0][0]
        ended = store.query("SELECT count(end_ts) FROM sessions")[0][0]
    assert len(dead) == len(POISONS) * athletes, dead
    for _stream, raw, expected in POISONS:
        reasons = [reason for reason, payload in dead if bytes(payload) == raw]
        assert len(reasons) == athletes and all(expected in reason for reason in reasons), reasons
    assert (batches, ended) == (2 * athletes, athletes)


def settled(db_url: str, athletes: int) -> bool:
    with Store(db_url) as store:
        store.migrate()
        dead, ended = store.query("SELECT (SELECT count(*) FROM dead_letters), (SELECT count(end_ts) FROM sessions)")[0]
    return bool(dead == len(POISONS) * athletes and ended == athletes)


@pytest.mark.parametrize("command", ["ingest", "run"])
def test_poison_waiting_in_the_session_stops_no_restart(
    command: str, db_url: str, own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    log_path, health = tmp_path / f"{command}.log", tmp_path / "health.json"

    def start() -> object:
        health.unlink(missing_ok=True)
        with log_path.open("ab") as log:
            process = start_ingest(own_broker.url, db_url, log, f"poison-{command}", "--health-file", str(health),
                                   command=command)  # fmt: skip
        wait_until(health.exists, timeout=60, what=f"{command} started")
        return process

    process = start()  # its persistent session now exists at the broker
    process.terminate()  # type: ignore[attr-defined]
    process.wait(15)  # type: ignore[attr-defined]
    publish_all(own_broker.url, poison_and_valid("ana"))  # waiting in the session, unacknowledged
    for restart in ("after the poison came", "killed -9 once it was handled"):
        process = start()
        wait_until(
            lambda: settled(db_url, 1), timeout=60, what=f"the poison dead-lettered and the rest stored ({restart})"
        )
        time.sleep(1.0)
        assert process.poll() is None, log_path.read_text()[-3000:]  # type: ignore[attr-defined]
        process.kill()  # type: ignore[attr-defined]
        process.wait()  # type: ignore[attr-defined]
    check_stored(db_url, 1)
    assert "cannot work" not in log_path.read_text() and "Traceback" not in log_path.read_text()
    if command == "run":
        with Store(db_url) as store:
            assert store.query("SELECT count(*) FROM athlete_states") == [(1,)], "her session was scored"


def test_poison_stops_no_replica_or_worker_of_a_scaled_out_deployment(
    own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    athletes = [f"a{i}" for i in range(6)]
    with postgres_database() as pg_url, deployment(own_broker, pg_url, tmp_path, replicas=2, workers=2) as deployed:
        publish_all(own_broker.url, [m for athlete in athletes for m in poison_and_valid(athlete)])
        deployed.kill("ingest-1")  # while poison may still wait unacknowledged in its session
        deployed.ingest("ingest-1")
        wait_until(lambda: settled(pg_url, len(athletes)), timeout=60, what="every poison dead-lettered")
        valid = {"club": {"steps": 20 * len(athletes), "messages": 4 * len(athletes), "wellness_reports": 0,
                          "sessions": len(athletes)}}  # fmt: skip
        wait_until(lambda: all_folded(pg_url, valid), timeout=60, what="the valid sessions folded")
        time.sleep(1.0)
        assert all(p.poll() is None for p in deployed.processes.values()), "a process stopped"
        check_stored(pg_url, len(athletes))
        with Store(pg_url) as store:
            assert store.query("SELECT count(*) FROM athlete_states") == [(len(athletes),)]
        logs = "".join(p.read_text() for p in tmp_path.glob("*.log"))
        assert "cannot work" not in logs and "Traceback" not in logs
