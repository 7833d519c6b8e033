"""Raw samples as the ``imu`` stream carries them, and as the store keeps them.

A batch holds x, y, z either as JSON arrays of numbers or as ``data``: base64 of
little-endian int16 triplets (x, y, z per sample) times ``scale``, which is what pods
send over BLE. Both are in ``unit`` (g or m/s2); detection works in g.

The store keeps the samples as they came, packed (`pack`): int16 counts when the device
sent counts (6 bytes a sample), float64 otherwise, so a batch can be detected again later
from exactly what the device said.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import numpy as np

from ingest.errors import IngestError

STANDARD_GRAVITY = 9.80665  # m/s2 in one g
Unit = Literal["g", "m/s2"]
SAMPLE_BYTES = 6  # x, y, z as int16


class SamplesError(IngestError, ValueError):
    """Samples that cannot be read; ``field`` names the payload field, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def counts_from_base64(data: str) -> np.ndarray:
    """``n x 3`` int16 counts from base64 of little-endian int16 x, y, z triplets."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise SamplesError("data", "not valid base64") from None
    if len(raw) % SAMPLE_BYTES:
        raise SamplesError(
            "data", f"must be whole samples of 6 bytes: x, y, z as little-endian int16 ({len(raw)} bytes)"
        )
    return np.frombuffer(raw, dtype="<i2").reshape(-1, 3)


def counts_to_base64(counts: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(counts, dtype="<i2").tobytes()).decode()


def in_g(values: np.ndarray, unit: Unit, scale: float | None = None) -> np.ndarray:
    """Samples (``n x 3``; counts when ``scale`` is given) in g, as float64."""
    out = values.astype(np.float64) * (scale if scale is not None else 1.0)
    return out / STANDARD_GRAVITY if unit == "m/s2" else out


def pack(values: np.ndarray, scale: float | None) -> bytes:
    """The samples as stored: int16 counts with a scale, else float64 values."""
    dtype = "<i2" if scale is not None else "<f8"
    return np.ascontiguousarray(values, dtype=dtype).tobytes()


def unpack(data: bytes, unit: Unit, scale: float | None) -> np.ndarray:
    """The inverse of `pack`, in g."""
    values = np.frombuffer(data, dtype="<i2" if scale is not None else "<f8").reshape(-1, 3)
    return in_g(values, unit, scale)
