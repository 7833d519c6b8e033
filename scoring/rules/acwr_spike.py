"""acwr_spike: acute (7-day EWMA) load far above chronic (28-day EWMA) load."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rules._rule import AcuteLoadRule, Judgement, judge
from scoring.severity import Bands, Severity


@dataclass(frozen=True, kw_only=True)
class AcwrSpike(AcuteLoadRule):
    """EWMA acute:chronic workload ratio (``scoring.ewma``), once the athlete has 21 days of history.

    Seed, line 91: "because you haven't done anything before. don't do heavy loads right
    away! you need to GRADUALLY"; the 1500-jump session of lines 145-149.
    Paper: Gabbett 2016 (Br J Sports Med 50:273): the sweet spot is 0.8-1.3, danger above
    1.5; EWMA form of Williams et al. 2017 (Br J Sports Med 51:209).

    Units: dimensionless ratio of impact-weighted steps. Only weeks of at least
    ``min_week_load`` impact-weighted steps (about 2 km or 2000 jumps) can raise it.
    Acute-load hysteresis.

    Example: 30 a day for 21 days, then 50 a day for 7: ACWR 1.25 (quiet); 50 a day for 28
    days, then 100 a day for 7: ACWR 1.34 -> moderate (if the week is >= 2000).
    """

    rule_id = "acwr_spike"
    message_template = "7-day load is {value:.1f}x the 28-day load: the load jumped too fast"
    held_template = "7-day load is {value:.1f}x the 28-day load"
    advice = "Cut the next sessions back to the usual volume and build up gradually."

    moderate: float = 1.3
    high: float = 1.5
    min_history_days: int = 21
    min_week_load: float = 2000.0

    def bands(self) -> Bands:
        return Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high)))

    def judge(self) -> Judgement:
        gate = (pl.col("history_days") >= self.min_history_days) & (pl.col("load_7") >= self.min_week_load)
        return judge(pl.col("acwr"), self.bands(), gate=gate)
