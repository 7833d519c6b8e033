from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from ingest.records import DeadLetterRow, StepBatchRow, to_record, unpack_steps

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
