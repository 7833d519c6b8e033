"""weekly_ramp: this week's load up too much on last week's."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rules._rule import AcuteLoadRule, Judgement, judge
from scoring.severity import Bands, Severity
from scoring.windows import lag, rolling_sum


@dataclass(frozen=True, kw_only=True)
class WeeklyRamp(AcuteLoadRule):
    """The last 7 days' load / the 7 days before, when that earlier week had >= 2 sessions.

    Seed, line 91: "don't do heavy loads right away! you need to GRADUALLY"; line 102:
    "It's probably so difficult to get into shape after many years of break."
    Papers: Gabbett 2016 (Br J Sports Med 50:273): a week-to-week change above 15% raises
    the risk; Nielsen et al. 2014 (J Orthop Sports Phys Ther 44:739): novices progressing
    more than 30% a week get more running injuries.

    Units: dimensionless ratio of impact-weighted steps. Only weeks of at least
    ``min_week_load`` can raise it, once the athlete has ``min_history_days`` of history:
    a step's load is its impact over the athlete's 28-day median impact, and until those
    28 days exist the median still moves from session to session (a first run on grass
    makes the next run on asphalt count 1.2x), so a steady routine would show week-on-week
    "ramps" that are only the baseline settling. Acute-load hysteresis.

    Example: 3 runs of 1000 last week, 3 of 1300 this week (and >= 2000 in total): 1.30 ->
    moderate (high needs more than 1.30).
    """

    rule_id = "weekly_ramp"
    message_template = "This week's load is {value:.0%} of last week's (over {threshold:.0%}): too big a step up"
    held_template = "This week's load is {value:.0%} of last week's"
    value_format = "{:.0%}"
    advice = "Hold next week at this week's volume; raise weekly load by no more than about 10%."

    moderate: float = 1.15
    high: float = 1.30
    min_week_load: float = 2000.0
    min_previous_sessions: int = 2
    min_history_days: int = 28

    def bands(self) -> Bands:
        return Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high)))

    def prepare(self) -> list[list[pl.Expr]]:
        previous = lag(pl.col("load_7"), 7)
        previous_sessions = lag(rolling_sum(pl.col("n_sessions"), 7), 7)
        ratio = pl.when((previous_sessions >= self.min_previous_sessions) & (previous > 0)).then(
            pl.col("load_7") / previous
        )
        return [[ratio.alias(self.column("ratio"))]]

    def judge(self) -> Judgement:
        gate = (pl.col("load_7") >= self.min_week_load) & (pl.col("history_days") >= self.min_history_days)
        return judge(pl.col(self.column("ratio")), self.bands(), gate=gate)
