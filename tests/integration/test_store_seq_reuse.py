"""A seq reused for other samples is dead-lettered; a byte-identical redelivery is dropped silently."""

from __future__ import annotations

import json
import time

import pytest

from ingest.records import DeadLetterRow, Records, StepBatchRow, to_record
from ingest.store import Store

pytestmark = pytest.mark.integration
TOPIC = "stridewatch/v1/club/ana/pod/steps"
NOW = int(time.time() * 1000)


def batch(seq: int, impact: float) -> Records:
    body = {
        "session_id": "s1",
        "seq": seq,
        "steps": [{"ts": NOW - 1000, "foot": "L", "impact_g": impact, "cadence_spm": 170.0}],
    }
    records = Records()
    records.add(to_record(TOPIC, json.dumps(body).encode(), now_ms=NOW, max_future_ms=0))
    return records


def merged(*parts: Records) -> Records:
    out = Records()
    for part in parts:
        for record in part.ordered:
            out.add(record)
    return out


def test_reused_seq_is_dead_lettered_in_place_and_redelivery_is_not(db_url: str) -> None:
    with Store(db_url) as store:
        store.migrate()
        first = merged(batch(1, 2.0), batch(1, 2.0), batch(2, 2.0), batch(2, 3.0))
        store.write(first, received_at=NOW)
        assert [type(r) for r in first.ordered] == [StepBatchRow, StepBatchRow, StepBatchRow, DeadLetterRow]
        assert first.dead[0].reason == "seq: 2 was already used by this device for other samples (session s1)"

        later = merged(batch(1, 2.0), batch(1, 2.5))
        store.write(later, received_at=NOW)
        assert [type(r) for r in later.ordered] == [StepBatchRow, DeadLetterRow]

        assert store.query("SELECT seq FROM step_batches ORDER BY seq") == [(1,), (2,)]
        assert store.query("SELECT count(*) FROM dead_letters") == [(2,)]
        impacts = store.steps(team="club")["impact_g"].to_list()
    assert impacts == [2.0, 2.0]  # what was stored first is what stays
