"""Contract messages into the store, through ingest's record path, or onto the broker as a device sends them."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence

from ingest.intake import Arrived, store_batch
from ingest.message import Message
from ingest.records import to_record
from ingest.store import Store
from stridewatch.progress import progress_bar
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.tools.sending")
WRITE_BATCH = 200  # messages per store transaction
MAX_FUTURE_MS = 6 * 3600 * 1000  # the consumer's default


def store(messages: Sequence[Message], db_url: str, *, progress: bool = False, feed: bool = False) -> int:
    """Write through the consumer's record path (``feed``: for score workers, as ``ingest --feed``);
    returns how many became dead letters (a bug if any)."""
    dead = 0
    with Store(db_url, feed=feed) as db, progress_bar(progress) as bar:
        db.migrate()
        task = bar.add_task("storing", total=len(messages))
        for chunk in _chunks(messages, WRITE_BATCH):
            now_ms = int(time.time() * 1000)
            arrived = [Arrived(m.topic, m.payload, to_record(m.topic, m.payload, now_ms=now_ms,
                                                             max_future_ms=MAX_FUTURE_MS)) for m in chunk]  # fmt: skip
            written = store_batch(db, arrived, received_at=now_ms)
            for row in written.dead:
                log.error("imported message rejected", extra={"topic": row.topic, "reason": row.reason})
            dead += len(written.dead)
            bar.advance(task, len(chunk))
        RiskEngine(db, TeamsConfig.default()).refresh_features()  # what the dashboard and the tools read
    return dead


def publish(messages: Sequence[Message], mqtt_url: str, *, progress: bool = False) -> None:
    """Publish at QoS 1 like a device; returns once the broker has acknowledged every message."""
    from simulators import Message
    from simulators import publish as publish_all

    publish_all(
        (Message(m.topic, m.payload, m.ts, steps=m.steps) for m in messages),
        url=mqtt_url,
        client_id=f"stridewatch-import-{os.getpid()}",
        progress=progress,
    )


def _chunks(items: Sequence[Message], size: int) -> Iterator[Sequence[Message]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
