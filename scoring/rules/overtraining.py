"""overtraining: high load or strain for weeks on end: a week of rest."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Row
from scoring.rules._rule import Judgement, Rule, Verdict, quiet_unless, severity_column
from scoring.severity import QUIET, Severity
from scoring.windows import lag


@dataclass(frozen=True, kw_only=True)
class Overtraining(Rule):
    """acwr_spike active, or monotony active with strain at least ``strain_margin`` x the
    athlete's usual 90th percentile, today and on the same weekday of each of the
    ``weeks - 1`` weeks before: high.

    The margin and the one-day-a-week check keep an athlete whose load merely wobbles
    around their own 90th percentile (500 jumps a day, give or take ten) from tripping
    it by chance: overtraining is load far above the athlete's base, week after week.

    Seed, lines 15-16: "With constant excessive physical overload, a special condition of
    the athlete may arise: ... You need to stop training for at least a week."
    Papers: Foster 1998 (Med Sci Sports Exerc 30:1164), monotony and strain; Gabbett 2016
    (Br J Sports Med 50:273), ACWR above 1.3.

    Units: weeks.

    Example: daily loads twice the athlete's base for three weeks: strain above their usual
    90th percentile with monotony > 2 on days 7, 14 and 21 -> high.
    """

    rule_id = "overtraining"
    reads_load = True
    message_template = "Load or strain flagged in each of the last {value:.0f} weeks: signs of overtraining"
    advice = "Stop training for at least a week, then restart lighter than before."
    evidence = (
        "Moderate: Foster 1998's monotony and strain flagged for weeks; its ACWR branch follows acwr_spike's "
        "evidence gate."
    )

    weeks: int = 3
    strain_margin: float = 1.1

    def reads(self) -> tuple[str, ...]:
        return ("acwr_spike", "monotony")

    def prepare(self) -> list[list[pl.Expr]]:
        acwr = pl.col(severity_column("acwr_spike")) >= int(Severity.MODERATE)
        strained = pl.col("monotony__flagged") & (pl.col("monotony__strain_over_usual") >= self.strain_margin)
        return [[(acwr | strained.fill_null(False)).alias(self.column("flagged"))]]

    def judge(self) -> Judgement:
        flagged = pl.col(self.column("flagged"))
        every_week = pl.all_horizontal(lag(flagged, 7 * k).fill_null(False) for k in range(self.weeks))
        return Judgement(quiet_unless(every_week, Severity.HIGH), pl.lit(float(self.weeks)), pl.lit(float(self.weeks)))

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        acwr = row[severity_column("acwr_spike")] >= int(Severity.MODERATE)
        over = row["monotony__strain_over_usual"]
        strained = row["monotony__flagged"] and over is not None and over >= self.strain_margin
        row[self.column("flagged")] = acwr or strained

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        every_week = all(days.lag(i, self.column("flagged"), 7 * k) for k in range(self.weeks))
        return (int(Severity.HIGH) if every_week else QUIET), float(self.weeks), float(self.weeks)
