"""The simulators' raw pod, detected: the model's own steps are the truth.

Targets (issue 15): simulated running and rope jumping within 1% of the model's steps, each
impact_g within 10% of the model's peak. The model sizes each contact spike so that the
signal's magnitude peaks at the step's impact (simulators.pod_signal); the feet come from
the swing of the pod's own leg; cadence from the intervals.
"""

from __future__ import annotations

import numpy as np
import pytest

from ingest.imu import StepRows
from simulators.athlete import StepSamples
from tests.unit.imu.recordings import detect, pod_session

MATCH_MS = 50


def matched(found: StepRows, model: StepSamples) -> tuple[np.ndarray, np.ndarray]:
    """For each model step, the nearest detected one, and whether it lies within ``MATCH_MS``."""
    k = np.clip(np.searchsorted(found.ts, model.ts), 1, len(found) - 1)
    nearest = np.where(np.abs(found.ts[k - 1] - model.ts) <= np.abs(found.ts[k] - model.ts), k - 1, k)
    return nearest, np.abs(found.ts[nearest] - model.ts) <= MATCH_MS


@pytest.mark.parametrize(
    ("scenario", "index", "what"),
    [
        ("steady_runner", 0, "a 6-7 km run"),
        ("jump_rope_spike", 4, "the 1500-jump rope session"),
        ("jump_rope_spike", 6, "rope jumps favouring a painful left leg"),
    ],
)
def test_steps_impacts_feet_and_cadence_of_the_model(scenario: str, index: int, what: str) -> None:
    signal, model, _session, _athlete = pod_session(scenario, index)
    found = detect(signal)
    assert abs(len(found) - len(model)) <= 0.01 * len(model), (what, len(found), len(model))
    nearest, close = matched(found, model)
    assert close.mean() >= 0.99, what
    impact_error = np.abs(found.impact_g[nearest[close]] / model.impact_g[close] - 1)  # type: ignore[index]
    assert impact_error.max() <= 0.10, (what, impact_error.max())
    assert np.median(impact_error) <= 0.02
    assert (found.right[nearest[close]] == ~model.left[close]).mean() >= 0.99, "feet"
    cadence_error = np.abs(found.cadence_spm[nearest[close]] / model.cadence_spm[close] - 1)
    assert np.median(cadence_error) <= 0.02


def test_a_favoured_leg_shows_in_the_detected_impacts() -> None:
    """After the sprain the rope jumper lands softer on the left: detection keeps the difference."""
    signal, model, session, _athlete = pod_session("jump_rope_spike", 6)
    assert session.favour[0] < session.favour[1]
    found = detect(signal)
    model_ratio = model.impact_g[model.left].mean() / model.impact_g[~model.left].mean()  # type: ignore[index]
    found_ratio = found.impact_g[~found.right].mean() / found.impact_g[found.right].mean()
    assert model_ratio < 0.9
    assert found_ratio == pytest.approx(model_ratio, rel=0.02)
