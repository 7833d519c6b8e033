"""The outcome model: Frandsen's hazard ratios after a longest-session spike, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.schemas import DAY_MS
from simulators.outcomes import FRANDSEN_2025, OutcomeModel

MODEL = OutcomeModel()


@pytest.mark.parametrize(
    ("ratio", "hr"), [(0.8, 1.0), (1.1, 1.0), (1.2, 1.64), (1.3, 1.64), (1.5, 1.52), (2.0, 1.52), (2.5, 2.28)]
)
def test_hazard_ratio_by_frandsens_bands(ratio: float, hr: float) -> None:
    assert MODEL.hazard_ratio(ratio) == hr
    assert MODEL.without_effect().hazard_ratio(ratio) == 1.0


def test_a_run_is_measured_against_the_longest_of_the_30_days_before() -> None:
    start = np.array([0, 10, 20, 45]) * DAY_MS
    length = np.array([5000.0, 8000.0, 6000.0, 6400.0])
    ratios = MODEL.longest_ratios(start, length)
    assert np.isnan(ratios[0])
    assert list(ratios[1:]) == pytest.approx([8000 / 5000, 6000 / 8000, 6400 / 6000])  # day 45: day 10 is 35 days back


def test_the_hazard_rises_for_the_window_after_a_spike_only() -> None:
    hazard = MODEL.daily_hazard(np.array([0, 10]), np.array([np.nan, 2.5]), 40)
    raised = np.flatnonzero(hazard > MODEL.base_daily_hazard)
    assert list(raised) == list(range(10, 10 + MODEL.window_days))
    assert hazard[10] == pytest.approx(MODEL.base_daily_hazard * FRANDSEN_2025[-1][1])


def onset_rates(model: OutcomeModel, athletes: int = 1000, days: int = 120) -> tuple[float, float]:
    """Pain episodes started per day inside the 14 days after a long run, and outside them."""
    day = np.arange(0, days, 2)
    length = np.where(day % 32 == 14, 2.5, 1.0) * 5000  # every 32 days a run 2.5x the longest of 30 days
    after_spike = np.zeros(days, dtype=bool)
    for d in day[length > 5000]:
        after_spike[d : d + model.window_days] = True
    counts = np.zeros(2)
    for k in range(athletes):
        last = -(10**6)
        for d, pain in model.reports(day, day * DAY_MS, length, days=days, rng=np.random.default_rng(k)):
            if max(p.score for p in pain) >= 4:
                if d - last > model.window_days:  # an onset, not a follow-up
                    counts[int(after_spike[d])] += 1
                last = d
    return counts[1] / (after_spike.sum() * athletes), counts[0] / ((~after_spike).sum() * athletes)


def test_pain_starts_about_2_3_times_as_often_after_a_run_twice_the_longest() -> None:
    model = OutcomeModel(base_daily_hazard=0.002)  # rare: the days an episode blocks hardly matter
    inside, outside = onset_rates(model)
    assert 1.7 < inside / outside < 3.0  # Frandsen's 2.28, with about 160 and 80 onsets
    inside, outside = onset_rates(model.without_effect())
    assert 0.7 < inside / outside < 1.4
