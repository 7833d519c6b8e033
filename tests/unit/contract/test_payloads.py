"""Every contract rule, accepted and rejected, with the exact reason a dead letter carries."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.payloads import MAX_PAYLOAD_BYTES, MAX_STEPS, PayloadError, SessionEvent, StepsBatch, parse_payload
from ingest.topics import parse_device_topic

STEPS = parse_device_topic("stridewatch/v1/harriers/a-017/pod-3/steps")
SESSION = parse_device_topic("stridewatch/v1/harriers/a-017/pod-3/session")
WELLNESS = parse_device_topic("stridewatch/v1/harriers/a-017/phone/wellness")
STATUS = parse_device_topic("stridewatch/v1/harriers/a-017/pod-3/status")


def step(**over: Any) -> dict[str, Any]:
    return {"ts": 1764223262120, "foot": "L", "impact_g": 7.8, "cadence_spm": 164, "elevation_m": 152.3,
            "contact_ms": 245} | over  # fmt: skip


def batch(**over: Any) -> dict[str, Any]:
    return {"session_id": "s-20261127-0601", "seq": 42, "steps": [step()]} | over


def raw(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


def reason(topic: Any, payload: bytes) -> str:
    with pytest.raises(PayloadError) as info:
        parse_payload(topic, payload)
    return info.value.reason


def test_contract_examples_are_accepted() -> None:
    got = parse_payload(STEPS, raw(batch()))
    assert isinstance(got, StepsBatch) and got.steps[0]["impact_g"] == 7.8
    start = {"session_id": "s-1", "event": "start", "ts": 1764223200000, "activity": "run", "surface": "asphalt",
             "shoe_id": "asics-01", "placement": "shin"}  # fmt: skip
    assert isinstance(parse_payload(SESSION, raw(start)), SessionEvent)
    end = {"session_id": "s-1", "event": "end", "ts": 1764225000000, "duration_s": 1800, "distance_m": 5120}
    assert parse_payload(SESSION, raw(end)).distance_m == 5120  # type: ignore[union-attr]
    rated = {"session_id": "s-1", "event": "end", "ts": 1764225000000, "duration_s": 1800, "rpe": 10}  # Additions
    assert parse_payload(SESSION, raw(rated)).rpe == 10  # type: ignore[union-attr]
    wellness = {"ts": 1764230000000, "pain": [{"site": "calf", "side": "L", "score": 6, "kind": "soreness"}],
                "note": "calves hurt after running"}  # fmt: skip
    assert parse_payload(WELLNESS, raw(wellness)).pain[0].score == 6  # type: ignore[union-attr]
    status = {"ts": 1764230000000, "online": True, "battery_pct": 81, "firmware": "2.4.1"}
    assert parse_payload(STATUS, raw(status)).online is True  # type: ignore[union-attr]


def test_cadence_only_device_and_unknown_fields() -> None:
    s = step(future_field={"x": 1})
    del s["impact_g"], s["elevation_m"], s["contact_ms"]
    got = parse_payload(STEPS, raw(batch(steps=[s], firmware_note="ignored")))
    assert "impact_g" not in got.steps[0]  # type: ignore[union-attr]


def test_session_defaults_activity_to_other_and_accepts_end_alone() -> None:
    start = parse_payload(SESSION, raw({"session_id": "s", "event": "start", "ts": 1}))
    assert start.activity == "other"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (batch(steps=[step(impact_g=0)]), "steps[0].impact_g: must be > 0"),
        (batch(steps=[step(impact_g=60.0001)]), "steps[0].impact_g: must be <= 60"),
        (batch(steps=[step(cadence_spm=0)]), "steps[0].cadence_spm: must be > 0"),
        (batch(steps=[step(cadence_spm=300.5)]), "steps[0].cadence_spm: must be <= 300"),
        (batch(steps=[step(), step(), step(), step(impact_g=-1)]), "steps[3].impact_g: must be > 0"),
        (
            batch(steps=[step(impact_g=math.nan)]),
            "steps[0].impact_g: must be a finite number (NaN and Infinity are not allowed)",
        ),
        (
            batch(steps=[step(cadence_spm=math.inf)]),
            "steps[0].cadence_spm: must be a finite number (NaN and Infinity are not allowed)",
        ),
        (batch(steps=[step(foot="X")]), "steps[0].foot: must be one of 'L' or 'R'"),
        (batch(steps=[step(ts="1764223262120")]), "steps[0].ts: must be an integer"),
        (batch(steps=[step(ts=1.5)]), "steps[0].ts: must be an integer"),
        (batch(steps=[step(ts=-1)]), "steps[0].ts: must be >= 0"),
        (batch(steps=[step(cadence_spm=True)]), "steps[0].cadence_spm: must be a number"),
        (batch(seq=-1), "seq: must be >= 0"),
        (batch(seq=2**60), "seq: must be <= 9007199254740992"),
        (batch(steps=[]), "steps: must have at least 1 items"),
        (batch(steps=[step()] * (MAX_STEPS + 1)), f"steps: must have at most {MAX_STEPS} items"),
        (batch(steps=[step(ts=2), step(ts=1)]), "steps[1].ts: earlier than steps[0].ts: steps must be in time order"),
        (batch(session_id="has space"), "session_id: must be 1-64 characters of A-Z, a-z, 0-9, _ or -"),
        (batch(session_id="x" * 65), "session_id: must have at most 64 characters"),
        ({"seq": 1, "steps": [step()]}, "session_id: required"),
        (batch(steps="lots"), "steps: must be an array"),
        (batch(team="rovers"), "team: 'rovers' disagrees with the topic's 'harriers'"),
        (batch(athlete="a-018"), "athlete: 'a-018' disagrees with the topic's 'a-017'"),
        (batch(device="pod-9"), "device: 'pod-9' disagrees with the topic's 'pod-3'"),
        ([batch()], "payload: must be a JSON object"),
    ],
)
def test_steps_rejections(payload: Any, expected: str) -> None:
    assert reason(STEPS, raw(payload)) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"session_id": "s", "event": "end", "ts": 5}, "duration_s: required on an end event"),
        ({"session_id": "s", "event": "pause", "ts": 5}, "event: must be one of 'start' or 'end'"),
        (
            {"session_id": "s", "event": "start", "ts": 5, "activity": "swim"},
            "activity: must be one of 'run', 'jump_rope', 'walk', 'strength' or 'other'",
        ),
        (
            {"session_id": "s", "event": "start", "ts": 5, "surface": "ice"},
            "surface: must be one of 'asphalt', 'concrete', 'tiles', 'track', 'treadmill', 'grass', 'trail' or 'carpet'",
        ),
        ({"session_id": "s", "event": "end", "ts": 5, "duration_s": -1}, "duration_s: must be >= 0"),
        ({"session_id": "s", "event": "end", "ts": 5, "duration_s": 1, "distance_m": -3}, "distance_m: must be >= 0"),
        ({"session_id": "s", "event": "end", "ts": 5, "duration_s": 1, "rpe": 10.5}, "rpe: must be <= 10"),
        ({"session_id": "s", "event": "end", "ts": 5, "duration_s": 1, "rpe": -0.5}, "rpe: must be >= 0"),
        (
            {"session_id": "s", "event": "start", "ts": 5, "rpe": 4},
            "rpe: is rated after the session: send it on the end event",
        ),
    ],
)
def test_session_rejections(payload: Any, expected: str) -> None:
    assert reason(SESSION, raw(payload)) == expected


@pytest.mark.parametrize(
    ("pain", "expected"),
    [
        ({"site": "calf", "side": "L", "score": 11, "kind": "ache"}, "pain[0].score: must be <= 10"),
        (
            {"site": "elbow", "side": "L", "score": 3, "kind": "ache"},
            "pain[0].site: must be one of 'calf', 'knee', 'achilles', 'shin', 'heel', 'foot', 'ankle', 'hip', 'back' "
            "or 'other'",
        ),
        ({"site": "calf", "side": "up", "score": 3, "kind": "ache"}, "pain[0].side: must be one of 'L', 'R' or 'both'"),
        ({"site": "calf", "side": "L", "score": 3}, "pain[0].kind: required"),
    ],
)
def test_wellness_rejections(pain: dict[str, Any], expected: str) -> None:
    assert reason(WELLNESS, raw({"ts": 1, "pain": [pain]})) == expected


def test_status_requires_online_flag() -> None:
    assert reason(STATUS, raw({"ts": 1})) == "online: required"
    assert reason(STATUS, raw({"ts": 1, "online": True, "battery_pct": 101})) == "battery_pct: must be <= 100"


def test_size_limit_is_checked_before_parsing() -> None:
    big = b" " * (MAX_PAYLOAD_BYTES + 1)
    assert reason(STEPS, big) == f"payload: {MAX_PAYLOAD_BYTES + 1} bytes is over the {MAX_PAYLOAD_BYTES} byte limit"
    exactly = raw(batch()) + b" " * (MAX_PAYLOAD_BYTES - len(raw(batch())))
    assert len(exactly) == MAX_PAYLOAD_BYTES
    parse_payload(STEPS, exactly)


@pytest.mark.parametrize(
    ("payload", "starts"),
    [
        (b"\xff\xfe{", "payload: not valid UTF-8 JSON"),
        (b'{"session_id": "s", "seq": 1, "steps": [', "payload: not valid UTF-8 JSON"),
        (b"[" * 5000 + b"]" * 5000, "payload: not valid UTF-8 JSON (recursion limit exceeded"),
        (b'{"session_id": "\xc3\x28"}', "payload: not valid UTF-8 JSON"),
        (b"", "payload: not valid UTF-8 JSON"),
    ],
)
def test_broken_bytes(payload: bytes, starts: str) -> None:
    assert reason(STEPS, payload).startswith(starts)


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(impact=finite)
def test_impact_range_edges(impact: float) -> None:
    payload = raw(batch(steps=[step(impact_g=impact)]))
    if 0 < impact <= 60:
        assert parse_payload(STEPS, payload).steps[0]["impact_g"] == impact  # type: ignore[union-attr]
    else:
        assert reason(STEPS, payload).startswith("steps[0].impact_g: must be")


@given(cadence=finite)
def test_cadence_range_edges(cadence: float) -> None:
    payload = raw(batch(steps=[step(cadence_spm=cadence)]))
    accepted = 0 < cadence <= 300
    if accepted:
        parse_payload(STEPS, payload)
    else:
        assert reason(STEPS, payload).startswith("steps[0].cadence_spm: must be")


@given(session_id=st.text(max_size=80))
def test_id_rule(session_id: str) -> None:
    payload = raw(batch(session_id=session_id))
    valid = 1 <= len(session_id) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-") for c in session_id)
    if valid:
        assert parse_payload(STEPS, payload).session_id == session_id  # type: ignore[union-attr]
    else:
        assert reason(STEPS, payload).startswith("session_id: must")


@given(value=st.one_of(st.text(), st.booleans(), st.none(), st.lists(st.integers(), max_size=3)))
def test_wrong_types_for_seq(value: Any) -> None:
    assert reason(STEPS, raw(batch(seq=value))) == "seq: must be an integer"


# CONTRACT.md, Additions: strings are valid UTF-8 without U+0000, whatever store is behind.
@pytest.mark.parametrize(
    ("topic", "body", "expected"),
    [
        (WELLNESS, b'{"ts": 1, "note": "sore\\u0000"}', "note: must not contain U+0000 (NUL), found at character 4"),
        (STATUS, b'{"ts": 1, "online": true, "firmware": "\\u00002.1"}', "firmware: must not contain U+0000 (NUL)"),
        (WELLNESS, b'{"ts": 1, "note": "a\\ud800b"}', "payload: not valid UTF-8 JSON (a string holds a lone surrogate"),
        (WELLNESS, b'{"ts": 1, "note": "\\udc00"}', "payload: not valid UTF-8 JSON (a string holds a lone surrogate"),
        (
            WELLNESS,
            b'{"ts": 1, "note": "\xff"}',
            "payload: not valid UTF-8 JSON (invalid UTF-8: byte 0xff at offset 19)",
        ),
        (STEPS, b"\xff\xfe\x00garbage", "payload: not valid UTF-8 JSON (invalid UTF-8: byte 0xff at offset 0)"),
        (STEPS, b'{"session_id": "s\\u0000", "seq": 1}', "session_id: must be 1-64 characters"),
    ],
)
def test_text_any_store_keeps(topic: Any, body: bytes, expected: str) -> None:
    assert reason(topic, body).startswith(expected)


def test_text_with_a_pair_of_surrogates_is_one_character() -> None:
    parsed = parse_payload(WELLNESS, b'{"ts": 1, "note": "\\ud83d\\ude00 fine"}')
    assert parsed.note == "\U0001f600 fine"  # type: ignore[union-attr]


def test_a_lone_surrogate_built_in_python_is_refused_too() -> None:
    from ingest.payloads import Wellness

    with pytest.raises(ValueError, match="lone surrogate at character 1"):
        Wellness(ts=1, note="a\ud800")
