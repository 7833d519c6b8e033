"""Detection parameters per sensor placement: where the sensor sits decides what a step looks like.

Two kinds of signal, so two parameter sets:

- a foot or shin pod (`POD`) feels each foot strike as a sharp contact spike, 5-15 g
  for some 20-40 ms (RULES.md: 7-8 g tibia, 5-15 g foot), on top of the slower swing of
  its own leg. A band-pass of 8-30 Hz keeps the spike and drops the swing; the step's
  time and ``impact_g`` are the spike's peak in the raw magnitude.
- a phone (hand, pocket, arm, chest, bag), a wrist device or a sacrum pod (`BODY`) rides
  on the body: a step is one cycle of the trunk's bounce, 0.5-2.5 Hz for walking, with a
  heel-strike and a push-off bump that a wider band would split in two. Its left/right
  timing alternates by up to 0.2 s (a pocket sits on one thigh), so the step times are
  smoothed [1, 2, 1] over their neighbours. Only a sacrum pod reports an impact: the
  contract's baselines know sacrum, not a phone in a pocket.

Cadence bounds the refractory distance: no two steps closer than ``refractory`` x the
current step period, clamped to ``min_step_s .. max_refractory_s`` (300 steps/min is the
contract's ceiling; a running or rope cadence of 140-200 is 0.30-0.43 s a step).
The body values were set on the Oxford walking recordings (tests/data/imu), the pod
values on the simulators' pod model; `tests/unit/imu` holds both to their targets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

# Where a raw sensor sits: the contract's pod placements and the usual places of a phone.
ImuPlacement = Literal["foot", "shin", "sacrum", "wrist", "hand", "pocket", "arm", "chest", "bag"]
IMU_PLACEMENTS: tuple[ImuPlacement, ...] = get_args(ImuPlacement)


@dataclass(frozen=True, kw_only=True)
class DetectorParams:
    """What a step looks like to one kind of sensor; the defaults are the rhythm every kind shares."""

    band_hz: tuple[float, float]  # detection band-pass of the magnitude (Butterworth, order 2)
    floor_g: float  # no candidate below this band-passed height
    min_step_s: float  # refractory floor: the fastest cadence (0.2 s = 300 steps/min)
    max_refractory_s: float  # refractory ceiling, so a slow estimate cannot swallow steps
    initial_step_s: float  # step period assumed before any interval is known
    time_band_hz: tuple[float, float] | None  # band the step time is read from; None: the raw magnitude
    time_window_s: tuple[float, float]  # where to look for the step time around the detected peak
    impact: bool  # report impact_g: the raw magnitude's peak at the step
    smooth_times: bool  # [1, 2, 1] smoothing of step times within a bout
    swing_window_s: tuple[float, float] = (0.0, 0.0)  # before a strike: where a pod's own leg swings
    relative_height: float = 0.3  # no candidate below this share of the recent steps' height
    refractory: float = 0.6  # share of the step period within which a second step is refused
    adapt: float = 0.2  # EWMA weight of a new interval (or height) in the estimates
    bout_steps: int = 4  # a bout counts only once it has this many steps: a few jolts are not walking
    regularity: float = 0.8  # an interval more than this share off the bout's period starts a new bout
    max_pause_s: float = 2.0  # a longer pause ends the bout

    @property
    def lookback_s(self) -> float:
        """How much signal before a peak its features read."""
        return max(self.time_window_s[0], self.swing_window_s[0])


POD = DetectorParams(
    band_hz=(8.0, 30.0), floor_g=0.5, min_step_s=0.2, max_refractory_s=0.5, initial_step_s=0.36,
    time_band_hz=None, time_window_s=(0.04, 0.04), impact=True, smooth_times=False, swing_window_s=(0.3, 0.06),
)  # fmt: skip
BODY = DetectorParams(
    band_hz=(0.5, 2.5), floor_g=0.03, min_step_s=0.25, max_refractory_s=0.4, initial_step_s=0.55,
    time_band_hz=(0.5, 4.0), time_window_s=(0.2, 0.1), impact=False, smooth_times=True,
)  # fmt: skip
SACRUM = replace(BODY, impact=True)


def params_for(placement: ImuPlacement) -> DetectorParams:
    if placement in ("foot", "shin"):
        return POD
    return SACRUM if placement == "sacrum" else BODY
