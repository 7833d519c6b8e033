"""Server-side step detection for devices that stream raw acceleration (the ``imu`` stream).

Pure: numpy and scipy in, the contract's step rows out; no store, no clock, no network.
`samples` reads the batches' samples; `params` holds what a step looks like per sensor
placement; `detector` turns a stream of samples into steps, batch by batch, with all its
state in `DetectorState`; `stream` orders one session's batches and decides when each
is detected (`StreamState`). The store runs them in its transaction (`ingest.imu_writes`).
"""

from ingest.imu.detector import Detector, DetectorState, StepRows
from ingest.imu.params import IMU_PLACEMENTS, DetectorParams, ImuPlacement, params_for
from ingest.imu.stream import HOLD_S, RawBatch, StreamState, batch_seq, end_seq

__all__ = [
    "HOLD_S", "IMU_PLACEMENTS", "Detector", "DetectorParams", "DetectorState", "ImuPlacement", "RawBatch",
    "StepRows", "StreamState", "batch_seq", "end_seq", "params_for",
]  # fmt: skip
