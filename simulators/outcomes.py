"""The outcome model: when a simulated athlete reports pain, so that ``stridewatch validate`` has a known truth.

Each day an athlete is not already in a pain episode, one starts with a small base hazard,
multiplied for ``window_days`` after a run (its own day included) by the hazard ratio of
how much longer that run was than the longest of the previous ``longest_days`` days
(Frandsen et al. 2025, Br J Sports Med 59:1203: HR 1.64 for 10-30% longer, 1.52 for
30-100%, 2.28 for more than twice as long). Nothing else raises it: the acute:chronic
ratio and the week-to-week change showed no association in the same cohort, and the model
encodes exactly that. Several runs in the window: the largest ratio counts.

An episode is a report of score 4-6 (sharp one time in six), then follow-ups every
``follow_up_days`` days one point lower, down to 2. Training goes on as planned: the model
leaves the schedule alone, so no rule can learn from a change in it. Mild soreness (score
1-3, not a qualifying report) comes on any day with ``soreness_hazard``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ingest.payloads import Pain, PainKind, PainSide, PainSite

DAY_MS = 86_400_000

RUNNING_SITES: tuple[PainSite, ...] = ("calf", "knee", "achilles", "shin", "foot", "hip")
# Frandsen et al. 2025: a run more than `over` x the longest of 30 days, and its hazard ratio.
FRANDSEN_2025 = ((1.1, 1.64), (1.3, 1.52), (2.0, 2.28))


@dataclass(frozen=True, kw_only=True)
class OutcomeModel:
    base_daily_hazard: float = 0.008
    window_days: int = 14
    longest_days: int = 30
    hazard_ratios: tuple[tuple[float, float], ...] = FRANDSEN_2025  # ascending (over, HR)
    sharp_share: float = 1 / 6
    follow_up_days: int = 2
    soreness_hazard: float = 0.02

    def without_effect(self) -> OutcomeModel:
        """The same model with every hazard ratio 1: pain comes at the base rate whatever the runs."""
        return replace(self, hazard_ratios=tuple((over, 1.0) for over, _ in self.hazard_ratios))

    def hazard_ratio(self, ratio: float) -> float:
        """The hazard ratio of a run ``ratio`` x the longest of the previous days (1 when not longer)."""
        found = 1.0
        for over, hr in self.hazard_ratios:
            if ratio > over:
                found = hr
        return found

    def longest_ratios(self, start_ms: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Each run's length / the longest run started in the ``longest_days`` days before it (NaN: none)."""
        window = self.longest_days * DAY_MS
        out = np.full(len(length), np.nan)
        for i in range(len(length)):
            earlier = (start_ms < start_ms[i]) & (start_ms >= start_ms[i] - window)
            if earlier.any():
                out[i] = length[i] / length[earlier].max()
        return out

    def daily_hazard(self, day: np.ndarray, ratios: np.ndarray, days: int) -> np.ndarray:
        """The chance of a pain episode starting on each of ``days`` days, given each run's day and ratio."""
        multiplier = np.ones(days)
        for d, ratio in zip(day, ratios, strict=True):
            if not np.isnan(ratio):
                window = slice(d, min(days, d + self.window_days))
                multiplier[window] = np.maximum(multiplier[window], self.hazard_ratio(ratio))
        return self.base_daily_hazard * multiplier

    def reports(
        self, day: np.ndarray, start_ms: np.ndarray, length: np.ndarray, *, days: int, rng: np.random.Generator
    ) -> list[tuple[int, list[Pain]]]:
        """Pain reports over ``days`` days (day index, entries), for runs given in time order by
        day index, start time and length."""
        hazard = self.daily_hazard(day, self.longest_ratios(start_ms, length), days)
        chances = rng.random(days)
        out: dict[int, list[Pain]] = {}
        free_from = 0
        for d in range(days):
            if d >= free_from and chances[d] < hazard[d]:
                free_from = d + self.window_days
                site = RUNNING_SITES[rng.integers(len(RUNNING_SITES))]
                side: PainSide = "L" if rng.random() < 0.5 else "R"
                kind: PainKind = "sharp" if rng.random() < self.sharp_share else "ache"
                for k, score in enumerate(range(int(rng.integers(4, 7)), 1, -1)):
                    when = d + k * self.follow_up_days
                    if when < days:
                        out.setdefault(when, []).append(Pain(site=site, side=side, score=score, kind=kind))
                        kind = "ache"
            elif rng.random() < self.soreness_hazard:
                site = RUNNING_SITES[rng.integers(len(RUNNING_SITES))]
                out.setdefault(d, []).append(
                    Pain(site=site, side="both", score=int(rng.integers(1, 4)), kind="soreness")
                )
        return sorted(out.items())
