"""The imu stream's contract: both encodings accepted, every broken batch refused with the reason its dead letter carries."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from ingest.imu.samples import STANDARD_GRAVITY, counts_to_base64
from ingest.payloads import MAX_ABS_G, MAX_IMU_SAMPLES, MAX_RATE_HZ, MIN_RATE_HZ, ImuBatch, PayloadError, parse_payload
from ingest.topics import parse_device_topic

IMU = parse_device_topic("stridewatch/v1/harriers/a-017/pod-3/imu")
SCALE = 16 / 32768


def arrays(n: int = 3, **over: Any) -> dict[str, Any]:
    body = {"session_id": "s-1", "seq": 7, "ts": 1764223262120, "rate_hz": 100, "unit": "g", "placement": "shin",
            "side": "L", "x": [0.01] * n, "y": [-0.02] * n, "z": [1.0] * n}  # fmt: skip
    return body | over


def packed(counts: np.ndarray, **over: Any) -> dict[str, Any]:
    body = arrays(x=None, y=None, z=None, data=counts_to_base64(counts), scale=SCALE)
    return {k: v for k, v in body.items() if v is not None} | over


def parse(body: dict[str, Any]) -> ImuBatch:
    got = parse_payload(IMU, json.dumps(body, allow_nan=True).encode())
    assert isinstance(got, ImuBatch)
    return got


def reason(body: dict[str, Any]) -> str:
    with pytest.raises(PayloadError) as info:
        parse(body)
    return info.value.reason


def test_json_arrays_in_g_and_in_m_s2_are_the_same_samples() -> None:
    in_g = parse(arrays(x=[0.0, 0.5], y=[0.0, 0.0], z=[1.0, 2.0]))
    in_ms2 = parse(
        arrays(unit="m/s2", x=[0.0, 0.5 * STANDARD_GRAVITY], y=[0.0, 0.0], z=[STANDARD_GRAVITY, 2 * STANDARD_GRAVITY])
    )
    np.testing.assert_allclose(in_g.xyz_g, in_ms2.xyz_g)
    np.testing.assert_allclose(in_g.xyz_g, [[0, 0, 1], [0.5, 0, 2]])
    assert in_g.last_ts == in_g.ts + 10


def test_base64_int16_counts_times_the_scale() -> None:
    counts = np.array([[0, 0, 2048], [-32768, 32767, 4096]], dtype=np.int16)
    got = parse(packed(counts))
    np.testing.assert_array_equal(got.values, counts)
    np.testing.assert_allclose(got.xyz_g, counts * SCALE)


def test_per_sample_times_set_the_last_sample() -> None:
    got = parse(arrays(t=[0, 9.5, 21.0]))
    assert got.last_ts == got.ts + 21


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (arrays(y=[0.0] * 2), "y: must have as many values as x (2, x has 3)"),
        (arrays(z=None), "z: required with x"),
        (arrays(x=None, y=None, z=None), "x: required (or data with scale)"),
        (arrays(x=[0.0, float("nan"), 1.0]), "x[1]: must be a finite number (NaN and Infinity are not allowed)"),
        (arrays(y=[0.0, "1", 0.0]), "y[1]: must be a number"),
        (arrays(x=[]), "x: must have at least 1 items"),
        (arrays(n=MAX_IMU_SAMPLES + 1), f"x: must have at most {MAX_IMU_SAMPLES} items (and 2 more)"),
        (arrays(data="AAAAAAAA", scale=SCALE), "data: give either data (with scale) or x, y and z, not both"),
        (arrays(scale=SCALE), "scale: belongs to data (int16 counts); x, y and z are in unit already"),
        (packed(np.zeros((2, 3)), scale=None), "scale: required with data"),
        (packed(np.zeros((2, 3)), scale=0), "scale: must be > 0"),
        (packed(np.zeros((2, 3)), scale=1.01), "scale: must be <= 1"),
        (packed(np.zeros((2, 3)), data="not base64!"), "data: not valid base64"),
        (
            packed(np.zeros((2, 3)), data=base64.b64encode(b"12345678").decode()),
            "data: must be whole samples of 6 bytes: x, y, z as little-endian int16 (8 bytes)",
        ),
        (packed(np.zeros((2, 3)), data=""), "data: must hold 1 to 6000 samples (0)"),
        (packed(np.zeros((MAX_IMU_SAMPLES + 1, 3))), "data: must hold 1 to 6000 samples (6001)"),
        (arrays(unit="mg"), "unit: must be one of 'g' or 'm/s2'"),
        (
            arrays(placement="ankle"),
            "placement: must be one of 'foot', 'shin', 'sacrum', 'wrist', 'hand', 'pocket', 'arm', 'chest' or 'bag'",
        ),
        (arrays(placement="pocket"), "side: only for a foot or shin pod, worn on one leg (placement pocket)"),
        (arrays(t=[0, 10]), "t: must have one time per sample (2 times, 3 samples)"),
        (arrays(t=[2, 10, 20]), "t[0]: must be 0: ts is the first sample's time (2)"),
        (arrays(t=[0, 10, 10]), "t[2]: must be after t[1]: sample times increase (10 after 10)"),
        (arrays(seq=-1), "seq: must be >= 0"),
        (arrays(ts="1764223262120"), "ts: must be an integer"),
        (arrays(rate_hz=float("inf")), "rate_hz: must be a finite number (NaN and Infinity are not allowed)"),
        (arrays(device="pod-9"), "device: 'pod-9' disagrees with the topic's 'pod-3'"),
    ],
)
def test_broken_batches_are_refused_with_the_reason(body: dict[str, Any], expected: str) -> None:
    assert reason(body) == expected


@pytest.mark.parametrize(
    ("rate", "accepted"),
    [(MIN_RATE_HZ - 0.01, False), (MIN_RATE_HZ, True), (MAX_RATE_HZ, True), (MAX_RATE_HZ + 0.01, False)],
)
def test_the_sample_rate_bounds(rate: float, accepted: bool) -> None:
    if accepted:
        assert parse(arrays(rate_hz=rate)).rate_hz == rate
    else:
        assert reason(arrays(rate_hz=rate)) in (
            f"rate_hz: must be >= {MIN_RATE_HZ:g}",
            f"rate_hz: must be <= {MAX_RATE_HZ:g}",
        )


@pytest.mark.parametrize(("ratio", "accepted"), [(0.74, False), (0.76, True), (1.32, True), (1.34, False)])
def test_per_sample_times_must_agree_with_the_rate(ratio: float, accepted: bool) -> None:
    n = 100
    body = arrays(n, t=list(np.arange(n) * 10.0 / ratio))  # 100 Hz declared, 100 x ratio Hz sampled
    if accepted:
        parse(body)
    else:
        assert reason(body).startswith(f"t: must agree with rate_hz (100 samples over {990 / ratio:.0f} ms")


def test_a_batch_of_the_most_samples_is_accepted() -> None:
    assert len(parse(arrays(MAX_IMU_SAMPLES)).xyz_g) == MAX_IMU_SAMPLES
    assert len(parse(packed(np.zeros((MAX_IMU_SAMPLES, 3), dtype=np.int16))).xyz_g) == MAX_IMU_SAMPLES


@pytest.mark.parametrize(("unit", "per_g"), [("g", 1.0), ("m/s2", STANDARD_GRAVITY)])
@pytest.mark.parametrize(("over", "accepted"), [(0.999, True), (1.0, True), (1.001, False)])
def test_readings_beyond_a_body_worn_accelerometer_are_refused(
    unit: str, per_g: float, over: float, accepted: bool
) -> None:
    value = MAX_ABS_G * over * per_g
    body = arrays(unit=unit, y=[0.0, -value, 0.0])
    if accepted:
        parse(body)
    else:
        assert reason(body) == f"y[1]: must be within ±200 g, what a body-worn accelerometer reads ({-value:g} {unit})"


def test_packed_readings_beyond_the_range_name_the_sample() -> None:
    counts = np.zeros((4, 3), dtype=np.int16)
    counts[2, 0] = 30000
    assert (
        reason(packed(counts, scale=0.01))
        == "data[2].x: must be within ±200 g, what a body-worn accelerometer reads (300 g)"
    )
