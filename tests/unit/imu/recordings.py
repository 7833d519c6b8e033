"""Signals for the detector's tests: a simulated pod session and a stretch of a real phone recording."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np

from ingest.files.accel import read_recording
from ingest.imu import Detector, StepRows
from ingest.imu.samples import STANDARD_GRAVITY
from simulators.athlete import SessionPlan, StepSamples, simulate
from simulators.plan import plan_scenario
from simulators.pod_signal import pod_signal
from simulators.scenario import Athlete, load_scenario
from tests.unit.imu.truth import COPIED

RATE_HZ = 100.0


@dataclass(frozen=True)
class Signal:
    """Samples (g) at ``rate_hz`` from ``t0_ms``, or at ``t0_ms + offsets_ms``, and where the sensor sat."""

    t0_ms: int
    xyz_g: np.ndarray
    placement: str
    side: str | None = None
    offsets_ms: np.ndarray | None = None
    rate_hz: float = RATE_HZ

    def times_ms(self, a: int) -> int:
        """The ``ts`` of a batch starting at sample ``a``."""
        if self.offsets_ms is None:
            return self.t0_ms + round(a * 1000 / self.rate_hz)
        return self.t0_ms + round(self.offsets_ms[a])

    def batch(self, a: int, b: int) -> tuple[int, float, np.ndarray, np.ndarray | None]:
        """Samples ``a`` to ``b - 1`` as a batch: (ts, rate, xyz, per-sample offsets from ts)."""
        ts = self.times_ms(a)
        offsets = None if self.offsets_ms is None else self.offsets_ms[a:b] + self.t0_ms - ts
        return ts, self.rate_hz, self.xyz_g[a:b], offsets


def detect(signal: Signal, cuts: list[int] | None = None) -> StepRows:
    """The steps of ``signal`` fed whole, or cut at ``cuts``, and finished."""
    edges = [0, *(cuts or []), len(signal.xyz_g)]
    detector = Detector.start(signal.placement, signal.side)  # type: ignore[arg-type]
    rows = [detector.feed(*signal.batch(a, b)) for a, b in itertools.pairwise(edges) if b > a]
    rows.append(detector.finish())
    return StepRows(*(np.concatenate(column) for column in zip(*rows, strict=True)))


@cache
def pod_session(scenario: str, index: int) -> tuple[Signal, StepSamples, SessionPlan, Athlete]:
    """Session ``index`` of ``scenario``'s first athlete as its pod's raw signal, with the model's steps."""
    (plan, *_) = plan_scenario(load_scenario(scenario), start=date(2026, 3, 2), seed=1)
    session = plan.sessions[index]
    steps = simulate(session, plan.athlete.profile, plan.athlete.device)
    two_footed = session.activity == "jump_rope" and plan.athlete.profile.rope_style == "two_feet"
    recording = pod_signal(steps, activity=session.activity, side=plan.athlete.device.side, two_footed=two_footed,
                           t0_ms=session.start_ms, end_ms=int(steps.ts[-1]) + 1500, rate_hz=RATE_HZ,
                           rng=np.random.default_rng(7))  # fmt: skip
    signal = Signal(recording.t0_ms, recording.xyz_g, plan.athlete.device.placement, plan.athlete.device.side)
    return signal, steps, session, plan.athlete


@cache
def phone_stretch(seconds: float = 60.0) -> Signal:
    """The first ``seconds`` of a real phone in a bag (about 108 Hz, uneven times), with its own times."""
    recording = read_recording(COPIED[1])
    keep = recording.times_ms - recording.times_ms[0] <= seconds * 1000
    t0 = round(recording.times_ms[0])
    return Signal(t0, recording.xyz[keep] / STANDARD_GRAVITY, "bag", None, recording.times_ms[keep] - t0, 108.0)
