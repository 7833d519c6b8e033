"""pain_persistent: pain at one site reported for more than 5 days: see a doctor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Pain, Row
from scoring.rules._pain import report_days, same_group, site_days, spread, spread_days
from scoring.rules._rule import ATHLETE, Judgement, Rule, Verdict
from scoring.severity import QUIET, Severity


@dataclass(frozen=True, kw_only=True)
class PainPersistent(Rule):
    """Reports at the same site with a score of at least ``min_score`` spanning more than
    ``days`` days: high. A report below ``min_score`` at that site, or ``max_gap_days``
    without one, ends the episode, so soreness that peaks 1-3 days after a hard session and
    fades (delayed-onset muscle soreness) raises nothing.

    Seed, line 249: "And if it does not stop within five days, there is reason to be wary
    and consult a doctor." RULES.md gives no paper for this rule.

    Units: days between the episode's first and latest report.

    Example: calf 5/10 reported on days 4, 5, 7, 8 and 10: 6 days > 5 -> high on day 10.
    """

    rule_id = "pain_persistent"
    message_template = "Pain at the same site reported over {value:.0f} days (more than {threshold:.0f})"
    advice = "See a doctor or physio about the pain, and train around it until then."
    evidence = "Pain at one site beyond five days warrants a doctor (the seed; clinical practice)."

    min_score: int = 3
    days: int = 5
    max_gap_days: int = 3

    def wellness_inputs(self, wellness: pl.DataFrame) -> pl.DataFrame:
        day = pl.col("day")
        pain = pl.col("score") >= self.min_score
        gap = (day - day.shift(1)).dt.total_days()
        # The previous report day at the same site; every painful day's episode starts at
        # its site, so the whole-column forward fill reaches another site only on days
        # without pain, whose span is not taken.
        before = same_group([ATHLETE, "site"], 1) & pain.shift(1)
        new_episode = pain & ~(before.fill_null(False) & (gap <= self.max_gap_days).fill_null(False))
        start = pl.when(new_episode).then(day).forward_fill()
        span = (day - start).dt.total_days()
        days = site_days(wellness, ["site"]).with_columns(span=pl.when(pain).then(span))
        persistent = days.filter(pl.col("span") > self.days)
        last_day = day + pl.duration(days=self.max_gap_days)
        return spread(
            persistent, last_day=last_day, severity=int(Severity.HIGH), value=pl.col("span"), prefix=self.column("")
        )

    def judge(self) -> Judgement:
        severity = pl.col(self.column("d_sev")).fill_null(QUIET)
        return Judgement(severity, pl.col(self.column("d_value")), pl.lit(float(self.days)))

    def pain_days(self, pain: Sequence[Pain]) -> dict[int, tuple[int, float]]:
        held = []
        for reports in report_days(pain, lambda p: (p.site,)).values():
            start: int | None = None
            for k, (day, score, _sharp) in enumerate(reports):
                painful = score >= self.min_score
                before = reports[k - 1] if k else None
                continues = before is not None and before[1] >= self.min_score and day - before[0] <= self.max_gap_days
                if painful and not continues:
                    start = day
                span = day - start if painful and start is not None else None
                if span is not None and span > self.days:
                    until = day + self.max_gap_days
                    if k + 1 < len(reports):
                        until = min(until, reports[k + 1][0] - 1)
                    held.append((day, until, float(span)))
        return spread_days(held, int(Severity.HIGH))

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        return row[self.column("d_sev")] or QUIET, row[self.column("d_value")], float(self.days)
