"""acwr_spike: acute (7-day EWMA) load far above chronic (28-day EWMA) load."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Row
from scoring.rules._rule import Judgement, LoadRatioRule, Verdict, judge, judge_row


@dataclass(frozen=True, kw_only=True)
class AcwrSpike(LoadRatioRule):
    """EWMA acute:chronic workload ratio (``scoring.ewma``) above ``moderate``.

    Seed, line 91: "because you haven't done anything before. don't do heavy loads right
    away! you need to GRADUALLY"; the 1500-jump session of lines 145-149.
    Paper: Gabbett 2016 (Br J Sports Med 50:273): the sweet spot is 0.8-1.3, danger above
    1.5; EWMA form of Williams et al. 2017 (Br J Sports Med 51:209). Graded by its
    evidence (``LoadRatioRule``): moderate at most, for athletes who train regularly; the
    old grading is ``high = 1.5``, ``min_history_days = 21``, ``min_days_per_week = 0``.

    Units: dimensionless ratio of impact-weighted steps. Acute-load hysteresis.

    Example: 30 a day for 21 days, then 50 a day for 7: ACWR 1.25 (quiet); 500 a day for
    28 days, then 1000 a day for 7: ACWR 1.34 -> moderate.
    """

    rule_id = "acwr_spike"
    message_template = "7-day load is {value:.1f}x the 28-day load: the load jumped too fast"
    held_template = "7-day load is {value:.1f}x the 28-day load"
    advice = "Cut the next sessions back to the usual volume and build up gradually."
    evidence = (
        "Weak: in 5,205 runners the acute:chronic ratio showed no link with injury (Frandsen 2025), "
        "so it is moderate at most, and only for athletes training 3+ days a week."
    )

    moderate: float = 1.3

    def judge(self) -> Judgement:
        return judge(pl.col("acwr"), self.bands(), gate=self.regular_training())

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        return judge_row(row["acwr"], self.bands(), gate=self.regular_training_row(days, i, row))
