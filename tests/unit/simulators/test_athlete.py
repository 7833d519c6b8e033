"""The athlete model is physically plausible and shows the effects the rules look for."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.payloads import Pain
from simulators.athlete import pain_favour
from tests.unit.simulators.conftest import sessions_of

RUNS = ["restart_runner", "steady_runner", "doms_normal", "worn_shoes", "overtrained"]
ROPE = ["jump_rope_spike", "daily_rope_500"]


@pytest.mark.parametrize("name", RUNS)
def test_running_cadence_and_contact_are_a_runners(name: str) -> None:
    for s in sessions_of(name):
        cadence = s.column("cadence_spm")
        assert 150 <= np.median(cadence) <= 190
        assert cadence.min() > 120 and cadence.max() < 215  # warm-up shuffle to downhill strides
        contact = s.column("contact_ms")
        if not np.isnan(contact).all():
            assert 180 <= np.median(contact) <= 300


@pytest.mark.parametrize("name", ROPE)
def test_rope_jumps_come_at_100_to_140_a_minute(name: str) -> None:
    for s in sessions_of(name):
        assert 100 <= np.median(s.column("cadence_spm")) <= 140
        assert 120 <= np.median(s.column("contact_ms")) <= 220


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("restart_runner", 3, 15), ("steady_runner", 3, 15), ("jump_rope_spike", 2, 15), ("doms_normal", 3, 20),
     ("overtrained", 1.5, 8)],
)  # fmt: skip
def test_impact_fits_the_placement(name: str, low: float, high: float) -> None:
    placement = {"restart_runner": "shin", "steady_runner": "shin", "jump_rope_spike": "shin", "doms_normal": "foot",
                 "overtrained": "sacrum"}[name]  # fmt: skip
    typical = {"shin": (6.5, 8.5), "foot": (5, 15), "sacrum": (3, 5)}[placement]
    medians = []
    for s in sessions_of(name):
        assert s.start["placement"] == placement
        impact = s.column("impact_g")
        assert low <= impact.min() and impact.max() <= high and impact.max() <= 60
        if s.start["activity"] == "run" and s.start["surface"] == "asphalt":
            medians.append(np.median(impact))
    assert not medians or typical[0] <= np.median(medians) <= typical[1]


def test_descent_steps_land_harder() -> None:
    s = sessions_of("restart_runner")[2]
    elevation, impact = s.column("elevation_m"), s.column("impact_g")
    falling = np.gradient(np.convolve(elevation, np.ones(25) / 25, mode="same")) < -0.04
    flat = np.abs(np.gradient(np.convolve(elevation, np.ones(25) / 25, mode="same"))) < 0.005
    assert 1.2 <= impact[falling].mean() / impact[flat].mean() <= 1.5


def test_softer_ground_softer_landings() -> None:
    by_surface: dict[str, list[float]] = {}
    for s in sessions_of("steady_runner"):
        by_surface.setdefault(s.start["surface"], []).append(float(np.median(s.column("impact_g"))))
    assert np.mean(by_surface["grass"]) < np.mean(by_surface["track"]) < np.mean(by_surface["asphalt"])


def test_elevation_is_a_barometers_noisy_reading() -> None:
    s = sessions_of("daily_rope_500")[0]  # indoors: the noise alone
    assert 0.25 <= np.std(s.column("elevation_m")) <= 0.5


def test_two_footed_jumps_are_all_left() -> None:
    assert all(s.left.all() for s in sessions_of("daily_rope_500"))


def test_one_sided_pain_lowers_that_sides_impact() -> None:
    assert pain_favour([]) == (1.0, 1.0)
    assert pain_favour([Pain(site="calf", side="both", score=8, kind="ache")]) == (1.0, 1.0)
    assert pain_favour([Pain(site="back", side="L", score=8, kind="ache")]) == (1.0, 1.0)
    left, right = pain_favour([Pain(site="achilles", side="L", score=4, kind="ache")])
    assert right == 1.0 and left == pytest.approx(0.72)
    assert pain_favour([Pain(site="knee", side="R", score=10, kind="sharp")]) == (1.0, 0.5)  # capped at half
