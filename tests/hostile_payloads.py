"""Hypothesis strategies for hostile device messages: every one breaks the contract somehow.

Each strategy draws a `Hostile`: the stream to publish on, the bytes, the kind of attack and
a fragment its dead-letter reason must contain. Some need a valid message on the same topic
first (a seq reused for other samples): that message is ``prelude``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ingest.payloads import MAX_INT, MAX_PAYLOAD_BYTES, MAX_STEPS
from ingest.records import EARLIEST_TS

NOW = int(time.time() * 1000)
T = NOW - 3_600_000
STREAMS = ("steps", "session", "wellness", "status", "imu")


def template(stream: str) -> dict[str, Any]:
    """A valid payload of ``stream``, which the strategies then break."""
    return {
        "steps": {
            "session_id": "s1",
            "seq": 1,
            "steps": [{"ts": T, "foot": "L", "cadence_spm": 170.0, "impact_g": 2.5}],
        },
        "session": {"session_id": "s1", "event": "end", "ts": T, "activity": "run", "duration_s": 600.0},
        "wellness": {"ts": T, "pain": [{"site": "knee", "side": "L", "score": 3, "kind": "ache"}]},
        "status": {"ts": T, "online": True, "battery_pct": 80.0},
        "imu": {
            "session_id": "s1",
            "seq": 1,
            "ts": T,
            "rate_hz": 100.0,
            "unit": "g",
            "placement": "shin",
            "x": [0.0, 0.1],
            "y": [0.0, 0.0],
            "z": [1.0, 1.2],
        },
    }[stream]


# Where each stream keeps a required value of a given JSON type: (path, kind of value).
FIELDS: dict[str, list[tuple[tuple[str | int, ...], str]]] = {
    "steps": [(("seq",), "int"), (("session_id",), "str"), (("steps",), "list"), (("steps", 0, "ts"), "int"),
              (("steps", 0, "foot"), "str"), (("steps", 0, "cadence_spm"), "float"), (("steps", 0, "impact_g"), "float")],
    "session": [(("ts",), "int"), (("session_id",), "str"), (("event",), "str"), (("duration_s",), "float")],
    "wellness": [(("ts",), "int"), (("pain",), "list"), (("pain", 0, "score"), "int"), (("pain", 0, "site"), "str")],
    "status": [(("ts",), "int"), (("online",), "bool"), (("battery_pct",), "float")],
    "imu": [(("seq",), "int"), (("ts",), "int"), (("rate_hz",), "float"), (("unit",), "str"), (("x",), "list"),
            (("x", 1), "float"), (("z", 0), "float")],
}  # fmt: skip
TIMESTAMPS: dict[str, tuple[str | int, ...]] = {
    "steps": ("steps", 0, "ts"), "session": ("ts",), "wellness": ("ts",), "status": ("ts",), "imu": ("ts",),
}  # fmt: skip


@dataclass(frozen=True)
class Hostile:
    kind: str
    stream: str
    payload: bytes
    reason_has: str
    topic_ids: tuple[str, str, str] | None = None  # ids the payload claims, where they disagree with the topic
    prelude: bytes | None = None


def put(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


# A value of the wrong JSON type for each kind of field (never one pydantic's strict mode accepts).
WRONG = {
    "int": st.one_of(st.text(max_size=8), st.floats(allow_nan=False).filter(lambda f: not f.is_integer()),
                     st.booleans(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    "float": st.one_of(st.text(max_size=8), st.booleans(), st.lists(st.floats(allow_nan=False), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    "str": st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.text(max_size=3), max_size=3)),
    "bool": st.one_of(st.integers(), st.text(max_size=8), st.lists(st.booleans(), max_size=3)),
    "list": st.one_of(st.integers(), st.text(max_size=8), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
}  # fmt: skip


@st.composite
def wrong_type(draw: st.DrawFn) -> Hostile:
    stream = draw(st.sampled_from(STREAMS))
    path, kind = draw(st.sampled_from(FIELDS[stream]))
    return Hostile("wrong_type", stream, dumps(put(template(stream), path, draw(WRONG[kind]))), "")


@st.composite
def not_finite(draw: st.DrawFn) -> Hostile:
    stream = draw(st.sampled_from(STREAMS))
    floats = [p for p, kind in FIELDS[stream] if kind in ("float", "int")]
    path = draw(st.sampled_from(floats))
    value = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return Hostile("not_finite", stream, dumps(put(template(stream), path, value)), "")


@st.composite
def huge_array(draw: st.DrawFn) -> Hostile:
    n = draw(st.integers(MAX_STEPS + 1, 5 * MAX_STEPS))  # up to ~800 KB: under the broker's 1 MiB
    step = template("steps")["steps"][0]
    return Hostile("huge_array", "steps", dumps(put(template("steps"), ("steps",), [step] * n)), "")


@st.composite
def deep_nesting(draw: st.DrawFn) -> Hostile:
    depth = draw(st.integers(64, 60_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inner = opener * depth + "1" + closer * depth
    stream = draw(st.sampled_from(STREAMS))
    if draw(st.booleans()):  # the whole payload
        return Hostile("deep_nesting", stream, inner.encode(), "")
    path, _kind = FIELDS[stream][0]  # or in place of a required value
    raw = json.dumps(put(template(stream), path, "<deep>")).replace('"<deep>"', inner)
    return Hostile("deep_nesting", stream, raw.encode(), "")


@st.composite
def invalid_utf8(draw: st.DrawFn) -> Hostile:
    stream = draw(st.sampled_from(STREAMS))
    raw = dumps(template(stream))
    at = draw(st.integers(0, len(raw)))
    bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xf0\x28\x8c\xbc", b"\xed\xa0\x80", b"\xc0\xaf"]))
    return Hostile("invalid_utf8", stream, raw[:at] + bad + raw[at:], "payload: not valid UTF-8 JSON")


@st.composite
def oversized(draw: st.DrawFn) -> Hostile:
    extra = draw(st.integers(1, 48 * 1024))
    stream = draw(st.sampled_from(STREAMS))
    doc = template(stream) | {"padding": "x" * (MAX_PAYLOAD_BYTES + extra)}
    return Hostile("oversized", stream, dumps(doc), "byte limit")


@st.composite
def id_mismatch(draw: st.DrawFn) -> Hostile:
    stream = draw(st.sampled_from(STREAMS))
    field = draw(st.sampled_from(["team", "athlete", "device"]))
    other = draw(st.from_regex(r"\A[A-Za-z0-9_-]{1,12}\Z"))
    return Hostile("id_mismatch", stream, dumps(template(stream) | {field: "z" + other}), "disagrees with the topic")


@st.composite
def negative_seq(draw: st.DrawFn) -> Hostile:
    seq = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_INT + 1)))
    return Hostile("bad_seq", "steps", dumps(put(template("steps"), ("seq",), seq)), "seq")


@st.composite
def repeated_seq(draw: st.DrawFn) -> Hostile:
    first, second = draw(st.lists(st.floats(0.5, 59.0), min_size=2, max_size=2, unique=True))
    prelude = dumps(put(template("steps"), ("steps", 0, "impact_g"), first))
    again = dumps(put(template("steps"), ("steps", 0, "impact_g"), second))
    return Hostile("repeated_seq", "steps", again, "already used by this device", prelude=prelude)


@st.composite
def absurd_timestamp(draw: st.DrawFn) -> Hostile:
    stream = draw(st.sampled_from(STREAMS))
    ts = draw(st.one_of(st.integers(max_value=EARLIEST_TS - 1), st.integers(NOW + 7 * 3600 * 1000, MAX_INT),
                        st.integers(min_value=MAX_INT + 1)))  # fmt: skip
    return Hostile("absurd_ts", stream, dumps(put(template(stream), TIMESTAMPS[stream], ts)), "ts")


@st.composite
def not_a_payload(draw: st.DrawFn) -> Hostile:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
        max_leaves=12,
    )
    value = draw(json_values.filter(lambda v: not isinstance(v, dict) or not v))
    return Hostile("not_a_payload", draw(st.sampled_from(STREAMS)), dumps(value), "")


@st.composite
def garbage(draw: st.DrawFn) -> Hostile:
    return Hostile("garbage", draw(st.sampled_from(STREAMS)), draw(st.binary(max_size=300)), "")


# Every string field of each stream, optional ones included (the template lacks some: `put` adds them).
TEXT_FIELDS: dict[str, list[tuple[str | int, ...]]] = {
    "steps": [("session_id",), ("steps", 0, "foot"), ("cadence_source",), ("team",), ("athlete",), ("device",)],
    "session": [("session_id",), ("event",), ("activity",), ("surface",), ("shoe_id",), ("placement",)],
    "wellness": [("note",), ("pain", 0, "site"), ("pain", 0, "side"), ("pain", 0, "kind"), ("device",)],
    "status": [("firmware",), ("team",)],
    "imu": [("session_id",), ("unit",), ("placement",), ("side",), ("athlete",)],
}  # fmt: skip


def field_name(path: tuple[str | int, ...]) -> str:
    """``("pain", 0, "site")`` as a dead letter's reason names it: ``pain[0].site``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@st.composite
def text_no_store_keeps(draw: st.DrawFn) -> Hostile:
    """U+0000 (escaped or raw) or a lone surrogate (escaped) in a string field: PostgreSQL refuses the
    first in text, no store can encode the second (CONTRACT.md, Additions)."""
    stream = draw(st.sampled_from(STREAMS))
    path = draw(st.sampled_from(TEXT_FIELDS[stream]))
    before, after = draw(st.text(max_size=6)), draw(st.text(max_size=6))
    kind, bad = draw(st.sampled_from([
        ("nul_escaped", "\\u0000"), ("lone_surrogate", draw(st.sampled_from(["\\ud800", "\\udbff", "\\udc00", "\\udfff"]))),
        ("nul_raw", "\x00"),
    ]))  # fmt: skip
    marker = "\u2603MARK\u2603"
    raw = json.dumps(put(template(stream), path, before + marker + after), ensure_ascii=False)
    raw = raw.replace(marker, bad)
    expected = "payload: not valid UTF-8 JSON" if kind != "nul_escaped" else f"{field_name(path)}: must"
    return Hostile(kind, stream, raw.encode("utf-8", "surrogatepass"), expected)


@st.composite
def beyond_64_bits(draw: st.DrawFn) -> Hostile:
    """Integers no 64-bit column holds, and floats far past every range (1e300), in number fields."""
    stream = draw(st.sampled_from(STREAMS))
    path, _kind = draw(st.sampled_from([f for f in FIELDS[stream] if f[1] in ("int", "float")]))
    value = draw(
        st.one_of(st.integers(2**63, 2**200), st.integers(-(2**200), -(2**63)), st.sampled_from([1e300, -1e300]))
    )
    return Hostile("beyond_64_bits", stream, dumps(put(template(stream), path, value)), field_name(path))


# Oversized payloads and huge arrays weigh 150-300 KB each: drawn less often than the rest.
HOSTILE = st.one_of(
    wrong_type(), not_finite(), deep_nesting(), invalid_utf8(), id_mismatch(), negative_seq(), repeated_seq(),
    absurd_timestamp(), not_a_payload(), garbage(), wrong_type(), not_finite(), absurd_timestamp(),
    text_no_store_keeps(), text_no_store_keeps(), beyond_64_bits(),
    st.integers(0, 9).flatmap(lambda n: {0: oversized(), 1: huge_array()}.get(n, wrong_type())),
)  # fmt: skip
