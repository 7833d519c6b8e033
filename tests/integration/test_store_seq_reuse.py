"""What the store takes, on both stores: a batch is (device, session_id, seq), so a counter that
restarts in a new session is new data; a repeat of a stored key is a duplicate when it says the
same and a dead letter when it says something else; and data the database refuses costs only
its own message (`ingest.intake`)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from ingest.intake import Arrived, store_batch
from ingest.migrations import MIGRATIONS
from ingest.records import DeadLetterRow, PainRow, Records, StepBatchRow, WellnessRow, to_record
from ingest.store import Store

pytestmark = pytest.mark.integration
TOPIC = "stridewatch/v1/club/ana/pod/steps"
NOW = int(time.time() * 1000)


def message(stream: str, body: dict[str, Any]) -> Arrived:
    topic = f"stridewatch/v1/club/ana/pod/{stream}"
    payload = json.dumps(body).encode()
    return Arrived(topic, payload, to_record(topic, payload, now_ms=NOW, max_future_ms=0))


def batch(seq: int, impact: float, session: str = "s1") -> Arrived:
    return message("steps", {"session_id": session, "seq": seq,
                             "steps": [{"ts": NOW - 1000, "foot": "L", "impact_g": impact, "cadence_spm": 170.0}]})  # fmt: skip


def write(store: Store, *items: Arrived) -> Records:
    return store.write(Records.of(a.record for a in items), received_at=NOW)


def test_reused_seq_is_dead_lettered_in_place_and_redelivery_is_a_duplicate(db_url: str) -> None:
    with Store(db_url) as store:
        store.migrate()
        sent = Records.of(a.record for a in (batch(1, 2.0), batch(1, 2.0), batch(2, 2.0), batch(2, 3.0)))
        first = store.write(sent, received_at=NOW)
        assert [type(r) for r in sent.ordered] == [StepBatchRow] * 4, "what was sent stays as it was"
        assert [type(r) for r in first.ordered] == [StepBatchRow, StepBatchRow, DeadLetterRow]
        assert [r.seq for r in first.duplicates] == [1]  # type: ignore[union-attr]
        assert first.dead[0].reason == "seq: 2 was already used by this device in session s1 for other samples"

        later = write(store, batch(1, 2.0), batch(1, 2.5))
        assert later.steps == [] and len(later.duplicates) == 1 and len(later.dead) == 1

        assert store.query("SELECT seq FROM step_batches ORDER BY seq") == [(1,), (2,)]
        assert store.query("SELECT count(*) FROM dead_letters") == [(2,)]
        impacts = store.steps(team="club")["impact_g"].to_list()
    assert impacts == [2.0, 2.0]  # what was stored first is what stays


def test_a_counter_that_restarts_in_a_new_session_is_new_data(db_url: str) -> None:
    with Store(db_url) as store:
        store.migrate()
        write(store, batch(0, 2.0, "before"), batch(1, 2.1, "before"))
        after = write(store, batch(0, 3.0, "after"), batch(1, 3.1, "after"), batch(0, 3.0, "after"))
        assert [r.seq for r in after.steps] == [0, 1] and not after.dead and len(after.duplicates) == 1
        stored = store.query("SELECT session_id, seq FROM step_batches ORDER BY session_id, seq")
        assert stored == [("after", 0), ("after", 1), ("before", 0), ("before", 1)]
        assert store.steps(team="club").height == 4


def test_sessions_and_reports_repeated_are_duplicates_or_dead_letters(db_url: str) -> None:
    start = {"session_id": "s1", "event": "start", "ts": NOW - 5000, "activity": "run"}
    end = {"session_id": "s1", "event": "end", "ts": NOW - 1000, "duration_s": 4.0}
    report = {"ts": NOW - 500, "pain": [{"site": "knee", "side": "L", "score": 3, "kind": "ache"}]}
    with Store(db_url) as store:
        store.migrate()
        first = write(store, message("session", start), message("session", end), message("wellness", report))
        assert len(first.sessions) == 2 and len(first.wellness) == 1 and not first.duplicates
        again = write(store, message("session", start), message("session", end), message("wellness", report),
                      message("session", start | {"activity": "walk"}), message("session", end | {"duration_s": 9.0}),
                      message("wellness", report | {"note": "worse"}))  # fmt: skip
        assert not again.sessions and not again.wellness and len(again.duplicates) == 3
        assert [d.reason for d in again.dead] == [
            f"event: session s1 already has a start with other details (at ts {NOW - 5000}); a device sends one per session",
            f"event: session s1 already has an end with other details (at ts {NOW - 1000}); a device sends one per session",
            f"ts: a report at {NOW - 500} is already stored from this device with other content",
        ]
        assert store.sessions(team="club").select("activity", "duration_s").row(0) == ("run", 4.0)


def test_data_the_database_refuses_costs_only_its_own_message(db_url: str) -> None:
    """Validation keeps such data out; should some get past it, the store's refusal dead-letters it
    (here a lone surrogate and an integer past 64 bits, built by hand), and the batch is stored."""
    good = [batch(seq, 2.0) for seq in range(10)]
    surrogate = WellnessRow("club", "ana", "phone", NOW - 10, "a\ud800", ())
    huge = WellnessRow("club", "ana", "phone", NOW - 20, None, (PainRow(0, "knee", "L", 2**70, "ache"),))
    items = [*good[:4], Arrived("stridewatch/v1/club/ana/phone/wellness", b'{"raw": 1}', surrogate), *good[4:7],
             Arrived("stridewatch/v1/club/ana/phone/wellness", b'{"raw": 2}', huge), *good[7:]]  # fmt: skip
    with Store(db_url) as store:
        store.migrate()
        written = store_batch(store, items, received_at=NOW)
        assert [r.seq for r in written.steps] == list(range(10))  # type: ignore[union-attr]
        assert [d.topic for d in written.dead] == ["stridewatch/v1/club/ana/phone/wellness"] * 2
        assert all(d.reason.startswith("store: the database refused it: ") for d in written.dead)
        assert store.query("SELECT count(*) FROM step_batches") == [(10,)]
        assert store.query("SELECT count(*) FROM wellness") == [(0,)]
        kept = store.query("SELECT payload FROM dead_letters ORDER BY id")
    assert [bytes(p) for (p,) in kept] == [b'{"raw": 1}', b'{"raw": 2}']  # the bytes, as they came


def test_the_ten_byte_poison_is_a_dead_letter_with_its_bytes(db_url: str) -> None:
    poison = b"\xff\xfe\x00garbage"
    item = Arrived(TOPIC, poison, to_record(TOPIC, poison, now_ms=NOW, max_future_ms=0))
    with Store(db_url) as store:
        store.migrate()
        written = store_batch(store, [item, batch(1, 2.0)], received_at=NOW)
        assert len(written.steps) == 1 and len(written.dead) == 1
        assert written.dead[0].reason == "payload: not valid UTF-8 JSON (invalid UTF-8: byte 0xff at offset 0)"
        ((excerpt, payload),) = store.query("SELECT payload_excerpt, payload FROM dead_letters")
    assert excerpt == "\\xff\\xfe\\x00garbage" and bytes(payload) == poison


def test_a_database_of_the_last_release_is_migrated_with_its_batches(db_url: str) -> None:
    with Store(db_url) as store:

        def up_to_9(cur: Any) -> None:
            cur.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT)")
            for version, _about, statements in MIGRATIONS[:9]:
                for statement in statements:
                    cur.execute(store.sql(statement))
                cur.execute(store.sql("INSERT INTO schema_version VALUES (?, 0)"), (version,))
            cur.execute(store.sql(
                "INSERT INTO step_batches (team, athlete, device, seq, session_id, first_ts, last_ts, n_steps, "
                "n_impact, received_at, data) VALUES ('club', 'ana', 'pod', 7, 'old', 1, 2, 1, 1, 3, ?)"), (b"x",))  # fmt: skip

        store.transaction(up_to_9)
        assert store.migrate() == MIGRATIONS[-1][0]
        assert store.query("SELECT session_id, seq, data FROM step_batches") == [("old", 7, b"x")] or [
            (s, q, bytes(d)) for s, q, d in store.query("SELECT session_id, seq, data FROM step_batches")
        ] == [("old", 7, b"x")]
        write(store, batch(7, 2.0, "new"))  # the same seq, another session: stored beside it
        assert store.query("SELECT count(*) FROM step_batches") == [(2,)]
