"""What an import sends is the contract's: every payload passes ingest's own validation."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from ingest.payloads import SessionEvent, StepsBatch, parse_payload
from ingest.records import StepBatchRow, to_record, unpack_steps
from ingest.topics import parse_device_topic
from scoring.features import session_features
from scoring.schemas import SESSIONS_SCHEMA, STEPS_SCHEMA
from stridewatch.tools.importing import prepare
from tests.unit.imports.files import GOOD_RUNS, GPX_LOG, REAL


def test_every_payload_passes_the_contract_and_seqs_are_unique() -> None:
    result = prepare([*GOOD_RUNS, *GPX_LOG], team="t", athlete="a", device="d")
    seqs: list[int] = []
    for message in result.messages:
        parsed = parse_payload(parse_device_topic(message.topic), message.payload)
        if isinstance(parsed, StepsBatch):
            seqs.append(parsed.seq)
            assert len(parsed.steps) == message.steps
            assert all("impact_g" not in step for step in parsed.steps)  # watches measure none
        else:
            assert isinstance(parsed, SessionEvent)
    assert len(seqs) == len(set(seqs)) > 0
    sent = sum(s.steps for f in result.files for s in f.sessions if s.imported)
    assert sum(m.steps for m in result.messages) == sent


def test_sessions_are_sent_in_the_order_they_happened_whatever_the_file_order() -> None:
    files = [*GOOD_RUNS, *GPX_LOG]
    forwards = prepare(files, team="t", athlete="a", device="d").messages
    backwards = prepare(files[::-1], team="t", athlete="a", device="d").messages
    starts = [m.ts for m in forwards if json.loads(m.payload).get("event") == "start"]
    assert len(starts) > 2
    assert starts == sorted(starts)
    assert backwards == forwards


def test_importing_again_sends_the_same_messages() -> None:
    first = prepare(GOOD_RUNS, team="t", athlete="a", device="d").messages
    assert prepare(GOOD_RUNS, team="t", athlete="a", device="d").messages == first


def test_elevation_is_carried_so_the_scoring_sees_descents() -> None:
    """2013-02-06-12-11-14.fit runs between 276 and 439 m."""
    messages = prepare([REAL / "fit" / "2013-02-06-12-11-14.fit"], team="t", athlete="a", device="d").messages
    rows = [
        {"team": "t", "athlete": "a", "device": "d", "session_id": body["session_id"], "impact_g": None,
         "contact_ms": None, **step}
        for m in messages if m.steps
        for body in [json.loads(m.payload)]
        for step in body["steps"]
    ]  # fmt: skip
    steps = pl.DataFrame(rows, schema=STEPS_SCHEMA)
    assert steps["elevation_m"].max() - steps["elevation_m"].min() > 100  # type: ignore[operator]
    features = session_features(steps, pl.DataFrame(schema=SESSIONS_SCHEMA))
    assert features["descent_steps"][0] > 0


def test_a_cadence_estimated_from_speed_is_marked_and_never_reads_as_form() -> None:
    # GPX logs carry no cadence: the steps come from GPS speed, so the batches say so.
    messages = prepare(GPX_LOG[:1], team="t", athlete="a", device="d").messages
    batches = [parse_payload(parse_device_topic(m.topic), m.payload) for m in messages if m.steps]
    assert batches and all(isinstance(b, StepsBatch) and b.cadence_source == "estimated" for b in batches)
    measured = prepare(GOOD_RUNS[:1], team="t", athlete="a", device="d").messages
    assert all(b'"cadence_source"' not in m.payload for m in measured)  # measured is the default
    row = to_record(messages[1].topic, messages[1].payload, now_ms=messages[1].ts, max_future_ms=0)
    assert isinstance(row, StepBatchRow) and row.cadence_estimated
    assert np.isnan(unpack_steps(row.data, row.n_steps, cadence_estimated=True)["cadence_spm"]).all()
    assert not np.isnan(unpack_steps(row.data, row.n_steps)["cadence_spm"]).any()
