"""weekly_ramp: this week's load up too much on last week's."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Row
from scoring.rules._rule import Judgement, LoadRatioRule, Verdict, judge, judge_row
from scoring.windows import lag, rolling_sum


@dataclass(frozen=True, kw_only=True)
class WeeklyRamp(LoadRatioRule):
    """The last 7 days' load / the 7 days before, when that earlier week had >= 2 sessions.

    Seed, line 91: "don't do heavy loads right away! you need to GRADUALLY"; line 102:
    "It's probably so difficult to get into shape after many years of break."
    Papers: Gabbett 2016 (Br J Sports Med 50:273): a week-to-week change above 15% raises
    the risk; Nielsen et al. 2014 (J Orthop Sports Phys Ther 44:739): novices progressing
    more than 30% a week showed HR 1.59 (0.96-2.66), for distance-related injuries only;
    Damsted et al. 2019: a 20-60% weekly increase raised the risk at day 21, not later.
    Graded by its evidence (``LoadRatioRule``): moderate at most, for athletes who train
    regularly; the old grading is ``high = 1.30``, ``min_history_days = 14``,
    ``min_days_per_week = 0``.

    Units: dimensionless ratio of impact-weighted steps. ``min_history_days`` is at least
    28 by default for a second reason: a step's load is its impact over the athlete's
    28-day median impact, and until those 28 days exist the median still moves from
    session to session (a first run on grass makes the next run on asphalt count 1.2x), so
    a steady routine would show week-on-week "ramps" that are only the baseline settling.
    Acute-load hysteresis.

    Example: 3 runs of 1000 last week, 3 of 1300 this week (and >= 2000 in total): 1.30 ->
    moderate.
    """

    rule_id = "weekly_ramp"
    message_template = "This week's load is {value:.0%} of last week's (over {threshold:.0%}): too big a step up"
    held_template = "This week's load is {value:.0%} of last week's"
    value_format = "{:.0%}"
    advice = "Hold next week at this week's volume; raise weekly load by no more than about 10%."
    evidence = (
        "Weak: week-to-week change of distance showed no link with injury in 5,205 runners (Frandsen 2025; "
        "Nielsen 2014's HR 1.59 for novices crossed 1), so it is moderate at most, for athletes training 3+ days a week."
    )

    moderate: float = 1.15
    min_previous_sessions: int = 2

    def prepare(self) -> list[list[pl.Expr]]:
        previous = lag(pl.col("load_7"), 7)
        previous_sessions = lag(rolling_sum(pl.col("n_sessions"), 7), 7)
        ratio = pl.when((previous_sessions >= self.min_previous_sessions) & (previous > 0)).then(
            pl.col("load_7") / previous
        )
        return [[ratio.alias(self.column("ratio"))]]

    def judge(self) -> Judgement:
        return judge(pl.col(self.column("ratio")), self.bands(), gate=self.regular_training())

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        previous = days.lag(i, "load_7", 7)
        previous_sessions = days.rolling_sum(i - 7, "n_sessions", 7) if i >= 7 else None
        judged = previous_sessions is not None and previous_sessions >= self.min_previous_sessions and previous > 0
        row[self.column("ratio")] = row["load_7"] / previous if judged else None

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        return judge_row(row[self.column("ratio")], self.bands(), gate=self.regular_training_row(days, i, row))
