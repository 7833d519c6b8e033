"""Session-summary mode agrees with the step model it summarises."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from scoring import SESSIONS_SCHEMA, STEPS_SCHEMA, session_features
from simulators.athlete import SessionPlan, StepSamples, simulate
from simulators.routes import routes
from simulators.scenario import Device, Profile
from simulators.summary import summarise

POD = Device()
WATCH = Device(id="watch-1", placement="wrist", impact=False, barometer=False)
SEEDS = range(6)


def steps_frame(plan: SessionPlan, samples: StepSamples) -> pl.DataFrame:
    n = len(samples)

    def column(values: np.ndarray | None) -> np.ndarray | list[None]:
        return [None] * n if values is None else values

    return pl.DataFrame(
        {"team": "t", "athlete": "a", "device": "d", "session_id": plan.session_id, "ts": samples.ts,
         "foot": np.where(samples.left, "L", "R"), "impact_g": column(samples.impact_g),
         "cadence_spm": samples.cadence_spm, "elevation_m": column(samples.elevation_m),
         "contact_ms": column(samples.contact_ms)},
        schema=STEPS_SCHEMA,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("metres", "profile", "device"),
    [(5000, Profile(), POD), (16000, Profile(endurance_min=60, pace_min_per_km=6.5), POD),
     (8000, Profile(cadence_spm=175, warms_up=False), WATCH)],
    ids=["5k-pod", "16k-tired-pod", "8k-watch"],
)  # fmt: skip
def test_the_summary_is_the_step_models_mean(metres: float, profile: Profile, device: Device) -> None:
    measured: dict[str, list[float]] = {}
    for seed in SEEDS:
        plan = SessionPlan(session_id="s", start_ms=1_767_225_600_000, activity="run", amount=metres,
                           surface="asphalt", route=routes()["flat"], warmup=profile.warms_up, intensity=1.0,
                           shoe=None, seed=(seed,))  # fmt: skip
        row = session_features(steps_frame(plan, simulate(plan, profile, device)), pl.DataFrame(schema=SESSIONS_SCHEMA))
        for name, value in row.row(0, named=True).items():
            if isinstance(value, float | int) and not isinstance(value, bool):
                measured.setdefault(name, []).append(float(value))
    summary = summarise(plan, profile, device)
    mean = {name: float(np.mean(values)) for name, values in measured.items()}
    assert summary["n_steps"] == pytest.approx(mean["n_steps"], rel=0.01)
    assert summary["plain_weighted_steps"] == pytest.approx(mean["plain_weighted_steps"], rel=0.01)
    assert summary["warmup_ratio"] == pytest.approx(mean["warmup_ratio"], abs=0.02)
    assert summary["fatigue_cadence_change"] == pytest.approx(mean["fatigue_cadence_change"], abs=0.005)
    assert summary["last_ts"] - summary["first_ts"] == pytest.approx(mean["last_ts"] - mean["first_ts"], rel=0.01)  # type: ignore[operator]
    if device.impact:  # the day's form moves a session's impact by about 3%: the mean of six is closer
        for name in ("impact_weighted_sum", "impact_mean_L", "impact_mean_R"):
            assert summary[name] == pytest.approx(mean[name], rel=0.04), name
        # The noise-free median sits on the curve's plateau; the per-step spread moves it a little.
        assert summary["impact_median"] == pytest.approx(mean["impact_median"], rel=0.06)
        assert summary["fatigue_impact_change"] == pytest.approx(mean["fatigue_impact_change"], abs=0.01)
    else:
        assert summary["impact_median"] is None and summary["n_impact"] == 0


def test_only_runs_are_summarised() -> None:
    plan = SessionPlan(session_id="s", start_ms=0, activity="jump_rope", amount=500, surface=None,
                       route=routes()["flat"], warmup=True, intensity=1.0, shoe=None, seed=(0,))  # fmt: skip
    with pytest.raises(ValueError, match="runs only"):
        summarise(plan, Profile(), POD)
