"""The v1 wire contract's payloads as pydantic models (CONTRACT.md).

Validation is strict and happens once, at the edge: a payload that fails any rule
becomes a dead letter carrying the reason `PayloadError` formats here, e.g.
``steps[3].impact_g: must be > 0``. Unknown fields are ignored (forward compatible).

Device payloads may carry optional ``team``/``athlete``/``device`` fields (gateways
often add them); when present they must agree with the topic, see `parse_payload`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NotRequired

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from ingest.errors import IngestError
from ingest.imu.params import ImuPlacement
from ingest.imu.samples import SamplesError, Unit, counts_from_base64, in_g
from ingest.topics import DeviceTopic, Stream

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_STEPS = 2000
# JSON-safe integers: beyond 2**53 a JavaScript client cannot read the value back.
MAX_INT = 2**53
# A minute at 100 Hz; base64 int16 of that many samples is 48,000 characters.
MAX_IMU_SAMPLES = 6000
MIN_RATE_HZ, MAX_RATE_HZ = 20.0, 1000.0  # steps need 20 Hz; a kHz is already a lab sensor
MAX_ABS_G = 200.0  # the widest range of a body-worn accelerometer

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _storable(value: str) -> str:
    """Text every store keeps as it came: PostgreSQL refuses U+0000 in text, and no store can
    encode a lone surrogate (the JSON parser already refuses one escaped in a payload)."""
    if "\x00" in value:
        raise ValueError(f"must not contain U+0000 (NUL), found at character {value.index(chr(0))}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"must be valid Unicode: a lone surrogate at character {exc.start}") from None
    return value


# Free text (notes, firmware versions, names): valid UTF-8 without U+0000 (CONTRACT.md, Additions).
Text = Annotated[
    str,
    AfterValidator(_storable),
    Field(json_schema_extra={"pattern": "^[^\\u0000]*$", "description": "valid UTF-8 without U+0000"}),
]
Millis = Annotated[int, Field(ge=0, le=MAX_INT, description="milliseconds since the Unix epoch, UTC")]
Foot = Literal["L", "R"]
Activity = Literal["run", "jump_rope", "walk", "strength", "other"]
Surface = Literal["asphalt", "concrete", "tiles", "track", "treadmill", "grass", "trail", "carpet"]
Placement = Literal["foot", "shin", "sacrum", "wrist"]
PainSite = Literal["calf", "knee", "achilles", "shin", "heel", "foot", "ankle", "hip", "back", "other"]
PainSide = Literal["L", "R", "both"]
PainKind = Literal["soreness", "ache", "sharp"]
Level = Literal["low", "moderate", "high", "critical"]
AlertState = Literal["raised", "updated", "cleared"]
RuleId = Literal[
    "session_spike", "acwr_spike", "weekly_ramp", "return_from_break", "no_rest",
    "monotony", "hard_surface", "descent_load", "no_warmup", "fatigue", "asymmetry",
    "shoe_wear", "pain_acute", "pain_persistent", "overtraining", "longest_session",
]  # fmt: skip
HARD_SURFACES: frozenset[str] = frozenset({"asphalt", "concrete", "tiles"})


class _Payload(BaseModel):
    # strict: "5" is not an int, true is not a number; NaN/Infinity are rejected.
    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore", frozen=True)


class _DevicePayload(_Payload):
    team: Id | None = Field(None, description="optional; when present must match the topic")
    athlete: Id | None = Field(None, description="optional; when present must match the topic")
    device: Id | None = Field(None, description="optional; when present must match the topic")


class Step(TypedDict):
    """One foot strike (or jump landing).

    A TypedDict, not a model: validating a 50-step batch into dicts is over twice as
    fast, and ingest packs the values straight into arrays.
    """

    __pydantic_config__ = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")  # type: ignore[misc]

    ts: Millis
    foot: Annotated[Foot, Field(description='landing foot; "L" for two-footed jumps')]
    cadence_spm: Annotated[float, Field(gt=0, le=300, description="instantaneous steps (or jumps) per minute")]
    impact_g: NotRequired[Annotated[float | None, Field(gt=0, le=60, description="peak vertical acceleration, g")]]
    elevation_m: NotRequired[
        Annotated[float | None, Field(ge=-1000, le=10000, description="barometric altitude, noisy")]
    ]
    contact_ms: NotRequired[Annotated[float | None, Field(ge=0, le=10000, description="ground contact time")]]


class StepsBatch(_DevicePayload):
    """stream ``steps``: a batch of per-step samples in time order."""

    session_id: Id
    seq: int = Field(
        ge=0,
        le=MAX_INT,
        description="per-device message counter, one up per batch within a session; (device, session_id, seq) is "
        "unique: a redelivery is stored once, and a counter that restarts in a new session is new data",
    )
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    cadence_source: Literal["measured", "estimated"] = Field(
        "measured",
        description="how every step's cadence_spm was obtained: 'estimated' when derived from another signal "
        "(GPS speed at import), not measured; rules that read running form leave estimated cadence out",
    )

    @model_validator(mode="after")
    def _in_time_order(self) -> StepsBatch:
        for i in range(1, len(self.steps)):
            if self.steps[i]["ts"] < self.steps[i - 1]["ts"]:
                raise _FieldError(f"steps[{i}].ts", f"earlier than steps[{i - 1}].ts: steps must be in time order")
        return self


class ImuBatch(_DevicePayload):
    """stream ``imu``: raw 3-axis acceleration from a pod or phone that detects no steps.

    The samples are ``x``, ``y`` and ``z`` as JSON arrays, or ``data``: base64 of
    little-endian int16 x, y, z triplets, each count worth ``scale`` ``unit``. Sample i is
    at ``ts + 1000 i / rate_hz`` ms, or at ``ts + t[i]`` when the device gives per-sample
    times (phones: the server resamples onto ``rate_hz``). Consecutive batches of a
    session follow on without overlap; the server detects the steps and stores them as
    the session's steps.
    """

    session_id: Id
    seq: int = Field(
        ge=0,
        le=MAX_INT,
        description="per-device message counter, one up per batch within a session; (device, session_id, seq) is "
        "unique: a redelivery is stored once, and a counter that restarts in a new session is new data",
    )
    ts: Millis = Field(description="time of the first sample")
    rate_hz: float = Field(ge=MIN_RATE_HZ, le=MAX_RATE_HZ, description="samples per second (nominal, with t)")
    unit: Unit
    placement: ImuPlacement
    side: Foot | None = Field(None, description="the leg a foot or shin pod is worn on")
    x: list[float] | None = Field(None, min_length=1, max_length=MAX_IMU_SAMPLES)
    y: list[float] | None = Field(None, min_length=1, max_length=MAX_IMU_SAMPLES)
    z: list[float] | None = Field(None, min_length=1, max_length=MAX_IMU_SAMPLES)
    data: str | None = Field(None, description="base64 of little-endian int16 x, y, z triplets")
    scale: float | None = Field(None, gt=0, le=1, description="unit per count of data")
    t: list[float] | None = Field(
        None, min_length=1, max_length=MAX_IMU_SAMPLES, description="ms after ts of each sample, increasing from 0"
    )
    _values: np.ndarray = PrivateAttr()  # as sent: counts for data, else numbers in unit
    _xyz_g: np.ndarray = PrivateAttr()

    @model_validator(mode="after")
    def _samples_agree(self) -> ImuBatch:
        values = self._read_values()
        n = len(values)
        if self.side is not None and self.placement not in ("foot", "shin"):
            raise _FieldError("side", f"only for a foot or shin pod, worn on one leg (placement {self.placement})")
        if self.t is not None:
            _check_times(self.t, n, self.rate_hz)
        g = in_g(values, self.unit, self.scale)
        beyond = np.flatnonzero(np.abs(g).max(axis=1) > MAX_ABS_G)
        if len(beyond):
            i = int(beyond[0])
            axis = "xyz"[int(np.argmax(np.abs(g[i])))]
            where = f"{axis}[{i}]" if self.data is None else f"data[{i}].{axis}"
            value = float(values[i, "xyz".index(axis)]) * (self.scale or 1.0)
            raise _FieldError(
                where, f"must be within ±{MAX_ABS_G:g} g, what a body-worn accelerometer reads ({value:g} {self.unit})"
            )
        self._values, self._xyz_g = values, g
        return self

    def _read_values(self) -> np.ndarray:
        arrays = {"x": self.x, "y": self.y, "z": self.z}
        if self.data is not None:
            if any(a is not None for a in arrays.values()):
                raise _FieldError("data", "give either data (with scale) or x, y and z, not both")
            if self.scale is None:
                raise _FieldError("scale", "required with data")
            try:
                counts = counts_from_base64(self.data)
            except SamplesError as exc:
                raise _FieldError(exc.field, exc.message) from None
            if not 1 <= len(counts) <= MAX_IMU_SAMPLES:
                raise _FieldError("data", f"must hold 1 to {MAX_IMU_SAMPLES} samples ({len(counts)})")
            return counts
        if self.scale is not None:
            raise _FieldError("scale", "belongs to data (int16 counts); x, y and z are in unit already")
        missing = [name for name, a in arrays.items() if a is None]
        if missing:
            given = [name for name in arrays if name not in missing]
            reason = f"required with {given[0]}" if given else "required (or data with scale)"
            raise _FieldError(missing[0], reason)
        n = len(self.x or ())
        for name in ("y", "z"):
            if len(arrays[name] or ()) != n:
                raise _FieldError(name, f"must have as many values as x ({len(arrays[name] or ())}, x has {n})")
        return np.column_stack((self.x or (), self.y or (), self.z or ()))

    @property
    def values(self) -> np.ndarray:
        """The samples as sent, ``n x 3``: int16 counts (with ``scale``) or numbers in ``unit``."""
        return self._values

    @property
    def xyz_g(self) -> np.ndarray:
        """The samples in g, ``n x 3``."""
        return self._xyz_g

    @property
    def last_ts(self) -> int:
        """Time of the last sample, ms."""
        n = len(self._xyz_g)
        return self.ts + round(self.t[-1] if self.t is not None else (n - 1) * 1000 / self.rate_hz)


def _check_times(t: list[float], n: int, rate_hz: float) -> None:
    if len(t) != n:
        raise _FieldError("t", f"must have one time per sample ({len(t)} times, {n} samples)")
    if t[0] != 0:
        raise _FieldError("t[0]", f"must be 0: ts is the first sample's time ({t[0]:g})")
    steps = np.diff(t)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        raise _FieldError(f"t[{i}]", f"must be after t[{i - 1}]: sample times increase ({t[i]:g} after {t[i - 1]:g})")
    if n >= 10:
        implied = 1000 * (n - 1) / t[-1]
        if not 0.75 <= implied / rate_hz <= 1.33:
            raise _FieldError(
                "t",
                f"must agree with rate_hz ({n} samples over {t[-1]:.0f} ms is {implied:.0f} Hz, rate_hz {rate_hz:g})",
            )


class SessionEvent(_DevicePayload):
    """stream ``session``: start or end of a session (an end without a start is accepted)."""

    session_id: Id
    event: Literal["start", "end"]
    ts: Millis
    activity: Activity = "other"
    surface: Surface | None = Field(None, description="declared surface; inferred from impact when absent")
    shoe_id: Id | None = None
    placement: Placement | None = None
    duration_s: float | None = Field(None, ge=0, le=7 * 24 * 3600, description="required on end")
    distance_m: float | None = Field(None, ge=0, le=1_000_000)
    rpe: float | None = Field(
        None,
        ge=0,
        le=10,
        description="on end: the athlete's rating of the whole session, CR-10 (sRPE load = rpe x minutes)",
    )

    @model_validator(mode="after")
    def _end_has_duration(self) -> SessionEvent:
        if self.event == "end" and self.duration_s is None:
            raise _FieldError("duration_s", "required on an end event")
        if self.event == "start" and self.rpe is not None:
            raise _FieldError("rpe", "is rated after the session: send it on the end event")
        return self


class Pain(_Payload):
    site: PainSite
    side: PainSide
    score: int = Field(ge=0, le=10)
    kind: PainKind


class Wellness(_DevicePayload):
    """stream ``wellness``: the athlete's self-report."""

    ts: Millis
    pain: list[Pain] = Field(default_factory=list, max_length=20)
    note: Text | None = Field(None, max_length=2000)


class Status(_DevicePayload):
    """stream ``status``: device status, retained; also the device's last will."""

    ts: Millis
    online: bool
    battery_pct: float | None = Field(None, ge=0, le=100)
    firmware: Text | None = Field(None, max_length=64)


class AlertReason(_Payload):
    rule: RuleId
    severity: Level
    value: float
    threshold: float
    message: str
    advice: str


class Alert(_Payload):
    """``stridewatch/v1/{team}/alerts/{athlete}``: the athlete's current risk, retained."""

    team: Id
    athlete: Id
    ts: Millis
    level: Level
    score: int = Field(ge=0, le=100)
    state: AlertState
    alert_id: str = Field(min_length=1, max_length=64)
    reasons: list[AlertReason]


class Ack(_Payload):
    """``stridewatch/v1/{team}/acks/{athlete}``: a coach acknowledged an alert; the latest, retained."""

    ts: Millis
    alert_id: str = Field(min_length=1, max_length=64)
    athlete: Id
    by: Text = Field(min_length=1, max_length=64, description="the coach's name as they gave it")
    note: Text | None = Field(None, max_length=500)


class DeadLetter(_Payload):
    """``stridewatch/v1/{team}/deadletter``: rejected input and why."""

    ts: Millis
    topic: str
    reason: str
    payload_excerpt: str


DevicePayload = StepsBatch | SessionEvent | Wellness | Status | ImuBatch
STREAM_MODELS: dict[Stream, type[_DevicePayload]] = {
    "steps": StepsBatch,
    "session": SessionEvent,
    "wellness": Wellness,
    "status": Status,
    "imu": ImuBatch,
}


class PayloadError(IngestError, ValueError):
    """A payload broke the contract; ``reason`` is what the dead letter carries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _FieldError(ValueError):
    """Raised inside validators so the reason names the exact field."""

    def __init__(self, loc: str, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def parse_payload(topic: DeviceTopic, raw: bytes) -> DevicePayload:
    """Validate ``raw`` as the payload of ``topic``'s stream, or raise `PayloadError`."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload: {len(raw)} bytes is over the {MAX_PAYLOAD_BYTES} byte limit")
    model = STREAM_MODELS[topic.stream]
    try:
        payload = model.model_validate_json(raw)
    except ValidationError as exc:
        raise PayloadError(_describe(exc, raw)) from None
    for field in ("team", "athlete", "device"):
        given = getattr(payload, field)
        if given is not None and given != getattr(topic, field):
            raise PayloadError(f"{field}: {given!r} disagrees with the topic's {getattr(topic, field)!r}")
    return payload  # type: ignore[return-value]


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _invalid_utf8(raw: bytes) -> str | None:
    """Where ``raw`` stops being UTF-8, in words; None if it is UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
    return None


def _describe(exc: ValidationError, raw: bytes) -> str:
    """The first error as ``path: rule``, in the contract's words."""
    err = exc.errors(include_url=False)[0]
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, _FieldError):
        return f"{inner.loc}: {inner.message}"
    path = _path(err["loc"])
    message = _MESSAGES.get(err["type"])
    text = message(err.get("ctx") or {}) if message else err["msg"]
    if err["type"] == "json_invalid" and (bad := _invalid_utf8(raw)):
        return f"payload: not valid UTF-8 JSON ({bad})"
    if err["type"] == "json_invalid" and _SURROGATE_ESCAPE.search(raw):
        return f"payload: not valid UTF-8 JSON (a string holds a lone surrogate escape: {err['ctx']['error']})"
    if err["type"] == "json_invalid" or err["type"] == "model_type":
        return f"payload: {text}"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{path}: {text}{more}"


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "payload"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_MESSAGES: dict[str, Any] = {
    "missing": lambda c: "required",
    "greater_than": lambda c: f"must be > {_num(c['gt'])}",
    "greater_than_equal": lambda c: f"must be >= {_num(c['ge'])}",
    "less_than": lambda c: f"must be < {_num(c['lt'])}",
    "less_than_equal": lambda c: f"must be <= {_num(c['le'])}",
    "finite_number": lambda c: "must be a finite number (NaN and Infinity are not allowed)",
    "int_type": lambda c: "must be an integer",
    "float_type": lambda c: "must be a number",
    "bool_type": lambda c: "must be true or false",
    "string_type": lambda c: "must be a string",
    "list_type": lambda c: "must be an array",
    "model_type": lambda c: "must be a JSON object",
    "dict_type": lambda c: "must be a JSON object",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "string_pattern_mismatch": lambda c: "must be 1-64 characters of A-Z, a-z, 0-9, _ or -",
    "string_too_short": lambda c: f"must have at least {c['min_length']} characters",
    "string_too_long": lambda c: f"must have at most {c['max_length']} characters",
    "too_short": lambda c: f"must have at least {c['min_length']} items",
    "too_long": lambda c: f"must have at most {c['max_length']} items",
    "json_invalid": lambda c: f"not valid UTF-8 JSON ({c['error']})",
    "value_error": lambda c: str(c["error"]),
}
