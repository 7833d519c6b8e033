"""A database holding seed scenarios as `stridewatch run` would leave it: raw streams, session
features, and the alerts of the last weeks, for the dashboard and report tests.

History older than ``live_days`` is written straight to the store (as an import of past
watch files would be); the rest goes through the service's own path (`RiskPipeline`), so
the alerts and their history are the ones living those weeks gives. Scoring every session
of every scenario that way takes a minute; the recent weeks hold the stories' alerts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.records import Records, to_record
from ingest.store import Store
from simulators import generate
from stridewatch.risk.engine import RiskEngine
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.teams import TeamsConfig
from tests.databases import postgres_database
from tests.scenario_expectations import SCENARIO_END

BATCH = 500
# The dashboard's "now" over a scored database: noon the day after the scenarios end, whatever day the suite runs.
DAY_AFTER_MS = int(dt.datetime.combine(SCENARIO_END + dt.timedelta(days=1), dt.time(12), dt.UTC).timestamp() * 1000)
# Two teams, each with alerts: club's rope jumper and poltava's restart runner.
TWO_TEAMS = ("jump_rope_spike", "restart_runner")


@contextlib.contextmanager
def scored_database(backend: str, folder: Path) -> Iterator[str]:
    """`TWO_TEAMS` ending on the fixed scenario day, scored, in SQLite (a file in ``folder``) or a new PostgreSQL database."""
    with contextlib.ExitStack() as stack:
        url = f"sqlite:///{folder}/scored.db" if backend == "sqlite" else stack.enter_context(postgres_database())
        assert build_scored_db(url, TWO_TEAMS, end=SCENARIO_END), "the scenarios raised no alert"
        yield url


def build_scored_db(url: str, scenarios: Sequence[str], *, end: dt.date, live_days: int = 14) -> int:
    """Fill the store at ``url`` with ``scenarios`` ending on ``end``; returns the alerts published."""
    messages = list(generate(*scenarios, end=end, seed=1, batch_steps=2000))
    cutoff = int(dt.datetime.combine(end - dt.timedelta(days=live_days), dt.time(), dt.UTC).timestamp() * 1000)
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    published: list[str] = []
    with Store(url, synchronous="OFF") as store:
        store.migrate()
        teams = TeamsConfig.default()
        service = RiskPipeline(store, teams, lambda topic, _payload, _id: published.append(topic))
        past = [m for m in messages if m.ts < cutoff]
        recent = [m for m in messages if m.ts >= cutoff]
        for start in range(0, len(past), BATCH):
            store.write(_records(past[start : start + BATCH], now), received_at=now)
        RiskEngine(store, teams).refresh_features()
        for start in range(0, len(recent), BATCH):
            records = _records(recent[start : start + BATCH], now)
            service.handle(store.write(records, received_at=now))
    return len(published)


def _records(messages: Sequence[object], now: int) -> Records:
    records = Records()
    for message in messages:
        records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=0))  # type: ignore[attr-defined]
    assert not records.dead, records.dead
    return records
