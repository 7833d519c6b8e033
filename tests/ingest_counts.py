"""What the store must hold for a replay, what it holds, and an `stridewatch ingest` process to fill it."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ingest.store import Store
from simulators import Message, publish
from tests.mqtt_helpers import wait_until


def expected_per_team(messages: Iterable[Message]) -> dict[str, dict[str, int]]:
    """What the store must hold, per team, computed from the messages themselves."""
    out: dict[str, Counter[str]] = {}
    sessions: dict[str, set[str]] = {}
    for m in messages:
        if m.fault or m.duplicate:  # a duplicate is a copy of a message counted already
            continue
        team = m.topic.split("/")[2]
        c = out.setdefault(team, Counter())
        if m.stream == "steps":
            c["steps"] += m.steps
            c["messages"] += 1
            sessions.setdefault(team, set()).add(m.topic.split("/")[3] + "/" + m.parse().session_id)  # type: ignore[union-attr]
        elif m.stream in ("session", "wellness"):
            c["messages"] += 1
            c["wellness_reports"] += m.stream == "wellness"
    return {team: dict(c) | {"sessions": len(sessions.get(team, ()))} for team, c in out.items()}


def stored_per_team(db_url: str) -> dict[str, dict[str, int]]:
    with Store(db_url) as store:
        store.migrate()
        return {
            s.team: {"steps": s.steps, "messages": s.messages, "wellness_reports": s.wellness_reports,
                     "sessions": s.sessions}
            for s in store.stats()
            if s.messages  # teams seen only through a retained status of an earlier test
        }  # fmt: skip


def stored_steps(db_url: str) -> int:
    return sum(team["steps"] for team in stored_per_team(db_url).values())


def start_ingest(
    broker_url: str, db_url: str, log: BinaryIO, client_id: str, *options: str, command: str = "ingest"
) -> subprocess.Popen[bytes]:
    """`stridewatch ingest` (or ``command``: ``run``) in its own process, so that it can be killed -9 or signalled."""
    return subprocess.Popen(
        [sys.executable, "-m", "stridewatch", "-v", command, "--mqtt-url", broker_url, "--db", db_url,
         "--client-id", client_id, "--batch-size", "100", *options],
        stdout=log, stderr=log,
    )  # fmt: skip


@contextmanager
def killed_while_publishing(
    broker_url: str, db_url: str, log_path: Path, client_id: str, messages: Iterable[Message], *, kills: int,
    max_gap_s: float, speed: float | None = None,
) -> Iterator[int]:  # fmt: skip
    """Publish ``messages`` while `stridewatch ingest` is killed -9 at random moments (at least ``kills``
    times) and started again; yields, with the last one still running, how many times it was killed."""
    log = log_path.open("ab")
    process = start_ingest(broker_url, db_url, log, client_id)
    wait_until(lambda: "connected" in log_path.read_text(), timeout=30, what="ingest connected")
    options: dict[str, object] = {"url": broker_url, "progress": False} | ({"speed": speed} if speed else {})
    publisher = threading.Thread(target=publish, args=(messages,), kwargs=options)
    publisher.start()
    rng = random.Random(5)
    killed = 0
    try:
        while killed < kills or publisher.is_alive():
            time.sleep(rng.uniform(0.2, max_gap_s))
            process.kill()  # SIGKILL: no clean-up, no flush; only what was committed survives
            process.wait()
            killed += 1
            process = start_ingest(broker_url, db_url, log, client_id)
        publisher.join()
        yield killed
    finally:
        process.terminate()
        process.wait(10)
        log.close()
