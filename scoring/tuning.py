"""Per-team thresholds that cut a rule's raises without losing the pain episodes it caught.

Pure: for each rule in ``TUNABLE`` the team has enabled, its threshold field is raised step
by step (``candidates``), the team's timeline recomputed with it, and the value kept that
leaves the fewest raises while catching at least as many pain episodes as the current value
(``scoring.validation``'s recall, at any severity), and that the caller's ``allowed`` check
accepts (``stridewatch`` checks the seed's stories). Rules are tuned one after another, each
on the thresholds chosen so far, so rules reading others (hard_surface, overtraining) are
judged on what will really run. The pain rules are not tuned: they read the reports they
would be measured against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from scoring.errors import ConfigError
from scoring.rules._rule import severity_column
from scoring.schemas import ATHLETE_KEYS
from scoring.severity import Severity
from scoring.thresholds import Thresholds
from scoring.timeline import timeline
from scoring.validation import ANY, DayGrid, Outcome, day_grid, measure, raise_days

# The field that makes each rule quieter as it rises: the first band's threshold, or for
# rules without bands the measure that decides a raise.
TUNABLE: dict[str, str] = {
    "longest_session": "moderate",
    "session_spike": "moderate",
    "acwr_spike": "moderate",
    "weekly_ramp": "moderate",
    "no_rest": "moderate",
    "return_from_break": "load_share",
    "monotony": "moderate",
    "hard_surface": "moderate",
    "descent_load": "moderate",
    "no_warmup": "min_ratio",
    "fatigue": "duration_ratio",
    "asymmetry": "moderate",
    "shoe_wear": "moderate_km",
    "overtraining": "weeks",
}
FACTORS = (1.05, 1.1, 1.2, 1.35, 1.5)  # candidate multiples of a float threshold
INCREMENTS = (1, 2, 3, 4)  # and steps of an integer one


@dataclass(frozen=True)
class Suggestion:
    """A threshold change and its trade: raises and episodes caught, before and after."""

    rule: str
    field: str
    current: float
    value: float
    raises: tuple[int, int]
    caught: tuple[int, int]
    episodes: int

    def trade(self) -> str:
        """The trade in words, e.g. ``raises 40 -> 22, recall 0.50 -> 0.50``."""
        before, after = (c / self.episodes if self.episodes else 0.0 for c in self.caught)
        return f"raises {self.raises[0]} -> {self.raises[1]}, recall {before:.2f} -> {after:.2f} (was {self.current:g})"


def candidates(current: float) -> list[float]:
    """Quieter values of a threshold: a few steps up from ``current``."""
    if isinstance(current, int):
        return [current + step for step in INCREMENTS]
    return sorted({round(current * factor, 2) for factor in FACTORS} - {current})


def _raises(days: pl.DataFrame, rule_id: str, grid: DayGrid) -> tuple[int, int]:
    """The rule's raises at any severity on ``days``, and the episodes they caught."""
    severity = days[severity_column(rule_id)].to_numpy()
    found = measure(raise_days(severity, grid.athlete, int(Severity.LOW)), grid)
    return found.raises, found.caught


def suggest(
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    thresholds: Thresholds,
    at: int,
    tz: str = "UTC",
    horizon_days: int = 14,
    outcome: Outcome = ANY,
    allowed: Callable[[Thresholds], bool] = lambda _: True,
    advance: Callable[[], None] = lambda: None,
) -> list[Suggestion]:
    """The threshold changes worth making for one team, in ``TUNABLE`` order (see the module doc),
    judged on ``outcome`` (its episodes must not be missed).

    ``advance`` is called once per timeline computed (for a progress bar).
    """

    def days_of(trial: Thresholds) -> pl.DataFrame:
        advance()
        return timeline(sessions, wellness, at=at, thresholds=trial, tz=tz).sort(*ATHLETE_KEYS, "day")

    chosen = thresholds
    days = days_of(chosen)
    grid = day_grid(days, sessions, wellness, horizon_days=horizon_days, tz=tz, load=thresholds.load, outcome=outcome)
    out = []
    for rule_id, field in TUNABLE.items():
        rule = chosen.rule(rule_id)
        if not rule.enabled:
            continue
        before = _raises(days, rule_id, grid)
        if not before[0]:
            continue
        current = getattr(rule, field)
        tried = []
        for value in candidates(current):
            try:
                changed: dict[str, Any] = {rule_id: dataclasses.replace(rule, **{field: value})}  # type: ignore[arg-type]
                trial = dataclasses.replace(chosen, **changed)
            except ConfigError:  # past the rule's next band: not a candidate
                continue
            trial_days = days_of(trial)
            tried.append((_raises(trial_days, rule_id, grid), value, trial, trial_days))
        better = [t for t in tried if t[0][0] < before[0] and t[0][1] >= before[1]]
        for after, value, trial, trial_days in sorted(better, key=lambda t: (t[0][0], t[1])):
            if allowed(trial):
                chosen, days = trial, trial_days
                out.append(Suggestion(rule_id, field, current, value, (before[0], after[0]),
                                      (before[1], after[1]), grid.episodes))  # fmt: skip
                break
    return out
