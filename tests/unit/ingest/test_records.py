from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.imu import samples
from ingest.imu.samples import counts_to_base64
from ingest.records import DeadLetterRow, ImuBatchRow, Records, StepBatchRow, printable, to_record, unpack_steps

NOW = 1_764_223_262_120
TOPIC = "stridewatch/v1/h/a/d/steps"
optional = st.one_of(st.none(), st.floats(min_value=0.01, max_value=60))


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, object]]:
    n = draw(st.integers(1, 60))
    steps = []
    ts = NOW
    for _ in range(n):
        ts += draw(st.integers(0, 2000))
        step: dict[str, object] = {"ts": ts, "foot": draw(st.sampled_from("LR")),
                                   "cadence_spm": draw(st.floats(min_value=1, max_value=300))}  # fmt: skip
        for name in ("impact_g", "elevation_m", "contact_ms"):
            value = draw(optional)
            if value is not None:
                step[name] = value
        steps.append(step)
    return steps


@given(steps=batches())
def test_packed_steps_read_back_exactly(steps: list[dict[str, object]]) -> None:
    raw = json.dumps({"session_id": "s", "seq": 3, "steps": steps}).encode()
    row = to_record(TOPIC, raw, now_ms=NOW, max_future_ms=10**12)
    assert isinstance(row, StepBatchRow)
    assert (row.n_steps, row.first_ts, row.last_ts) == (len(steps), steps[0]["ts"], steps[-1]["ts"])
    assert row.n_impact == sum("impact_g" in s for s in steps)
    cols = unpack_steps(row.data, row.n_steps)
    for i, step in enumerate(steps):
        assert cols["ts"][i] == step["ts"]
        assert "LR"[cols["foot"][i]] == step["foot"]
        assert cols["cadence_spm"][i] == step["cadence_spm"]
        for name in ("impact_g", "elevation_m", "contact_ms"):
            got = float(cols[name][i])
            assert got == step[name] if name in step else math.isnan(got)


def test_dead_letter_keeps_topic_reason_and_a_short_excerpt() -> None:
    row = to_record(TOPIC, b'{"seq": "x"' + b" " * 500, now_ms=NOW, max_future_ms=0)
    assert isinstance(row, DeadLetterRow)
    assert row.team == "h" and row.topic == TOPIC and row.reason.startswith("payload: not valid UTF-8 JSON")
    assert len(row.payload_excerpt) == 200
    again = to_record(TOPIC, b'{"seq": "x"' + b" " * 500, now_ms=NOW + 5, max_future_ms=0)
    assert isinstance(again, DeadLetterRow) and again.digest == row.digest


def test_dead_letter_outside_the_tree_has_no_team() -> None:
    row = to_record("stridewatch/v1/bad team/a/d/steps", b"{}", now_ms=NOW, max_future_ms=0)
    assert isinstance(row, DeadLetterRow) and row.team is None


def test_the_store_keeps_the_feature_columns_scoring_produces() -> None:
    from ingest.store import FEATURE_COLUMNS
    from scoring import SESSION_FEATURES_SCHEMA

    assert dict(SESSION_FEATURES_SCHEMA) == FEATURE_COLUMNS


IMU_TOPIC = "stridewatch/v1/h/a/pod/imu"


def imu_payload(n: int, **over: object) -> bytes:
    counts = np.arange(3 * n, dtype=np.int16).reshape(n, 3)
    body = {"session_id": "s", "seq": 4, "ts": NOW, "rate_hz": 100, "unit": "g", "placement": "shin",
            "data": counts_to_base64(counts), "scale": 1 / 2048} | over  # fmt: skip
    return json.dumps(body).encode()


def test_an_imu_batch_is_stored_as_sent_and_read_back_in_g() -> None:
    row = to_record(IMU_TOPIC, imu_payload(50), now_ms=NOW, max_future_ms=10**6)
    assert isinstance(row, ImuBatchRow)
    assert (row.first_ts, row.last_ts, row.n_samples, row.rate_hz) == (NOW, NOW + 490, 50, 100.0)
    assert len(row.data) == 50 * 6  # int16 counts, as the pod sent them
    np.testing.assert_array_equal(samples.unpack(row.data, "g", row.scale), row.xyz_g)
    np.testing.assert_array_equal(row.xyz_g, np.arange(150).reshape(50, 3) / 2048)


@pytest.mark.parametrize(("ahead_ms", "dead"), [(0, False), (1, True)])
def test_an_imu_batch_ending_in_the_future_is_dead(ahead_ms: int, dead: bool) -> None:
    """The clock check reads the batch's last sample, 4.99 s after its first."""
    row = to_record(IMU_TOPIC, imu_payload(500), now_ms=NOW + 4990 - ahead_ms, max_future_ms=0)
    assert isinstance(row, DeadLetterRow) == dead
    if dead:
        assert isinstance(row, DeadLetterRow) and row.reason == "ts: 0 s in the future, beyond the 0 s allowed"


def test_a_rejected_imu_batch_keeps_its_place_and_says_what_it_held() -> None:
    records = Records()
    first = to_record(IMU_TOPIC, imu_payload(10), now_ms=NOW, max_future_ms=10**6)
    second = to_record(IMU_TOPIC, imu_payload(20, seq=5), now_ms=NOW, max_future_ms=10**6)
    assert isinstance(first, ImuBatchRow) and isinstance(second, ImuBatchRow)
    records.add(first)
    records.add(second)
    records.reject(first, "ts: must not overlap")
    assert records.imu == [second] and isinstance(records.ordered[0], DeadLetterRow)
    assert records.dead[0].payload_excerpt == f"seq 4, session s, 10 samples from ts {NOW}"
    assert records.dead[0].topic == IMU_TOPIC


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xfe\x00garbage", b'{"note": "\x00"}', b"\x00" * 300, "caf\u00e9 \ud800".encode("utf-8", "surrogatepass")],
)
def test_a_dead_letter_is_text_every_store_keeps_and_the_bytes_as_they_came(payload: bytes) -> None:
    row = to_record(TOPIC, payload, now_ms=NOW, max_future_ms=0)
    assert isinstance(row, DeadLetterRow)
    for text in (row.topic, row.reason, row.payload_excerpt):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate
    assert row.payload == payload
    assert row.payload_excerpt.startswith(printable(payload)[:20])


def test_printable_writes_what_a_store_refuses_as_escapes() -> None:
    assert printable(b"ok\x00\xff") == "ok\\x00\\xff"
    assert printable("ok\x00\ud800") == "ok\\x00\\ud800"
    assert printable("caf\u00e9") == "caf\u00e9"
