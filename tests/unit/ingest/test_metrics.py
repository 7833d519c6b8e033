"""Dead letters are counted by a few causes, whatever the reason's details (bounded label values)."""

from __future__ import annotations

import time

import pytest

from ingest.metrics import dead_letter_cause
from ingest.records import DeadLetterRow, to_record

NOW = int(time.time() * 1000)
SESSION = b'{"session_id": "s", "event": "start", "ts": %d}'


@pytest.mark.parametrize(
    ("topic", "payload", "cause"),
    [
        ("stridewatch/v1/t/a/d/telemetry", b"{}", "topic"),
        ("stridewatch/v1/t/a/d/session", b"\xff", "payload"),
        ("stridewatch/v1/t/a/d/session", b"[1]", "payload"),
        ("stridewatch/v1/t/a/d/session", SESSION % (NOW + 7 * 3600 * 1000), "clock"),
        ("stridewatch/v1/t/a/d/session", SESSION % 946_684_799_999, "clock"),
        ("stridewatch/v1/t/a/d/session", b'{"session_id": "s", "event": "pause", "ts": 1}', "field"),
    ],
)
def test_each_dead_letter_has_its_cause(topic: str, payload: bytes, cause: str) -> None:
    record = to_record(topic, payload, now_ms=NOW, max_future_ms=6 * 3600 * 1000)
    assert isinstance(record, DeadLetterRow)
    assert dead_letter_cause(record.reason) == cause, record.reason
