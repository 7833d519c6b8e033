"""pain_acute: sharp pain, or pain of 7/10 or more: stop and see a doctor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Pain, Row
from scoring.rules._pain import report_days, site_days, spread, spread_days
from scoring.rules._rule import Judgement, Rule, Verdict
from scoring.severity import QUIET, Severity


@dataclass(frozen=True, kw_only=True)
class PainAcute(Rule):
    """A pain report of kind "sharp" or with a score of at least ``min_score``: critical.

    It holds for ``hold_days`` days (the report's day included) or until a later report at
    the same site and side says otherwise.

    Seed, line 239: "Acute pain may be a symptom of a sprained or torn muscle or ligament. It
    is necessary to immediately exclude all physical activity on the sore leg and contact a
    traumatologist". RULES.md gives no paper for this rule.

    Units: pain score 0-10.

    Example: {"site": "achilles", "score": 8, "kind": "ache"} -> critical; so is
    {"site": "knee", "score": 4, "kind": "sharp"}.
    """

    rule_id = "pain_acute"
    message_template = "Sharp or severe pain reported ({value:.0f}/10): possibly a sprain or a tear"
    advice = "Stop all training on the sore leg and see a doctor before training again."
    evidence = "The athlete's own report of sharp or severe pain: clinical practice is to stop and see a doctor."

    min_score: int = 7
    sharp_kinds: tuple[str, ...] = ("sharp",)
    hold_days: int = 7

    def wellness_inputs(self, wellness: pl.DataFrame) -> pl.DataFrame:
        days = site_days(wellness, ["site", "side"], sharp_kinds=self.sharp_kinds)
        acute = days.filter(pl.col("sharp") | (pl.col("score") >= self.min_score))
        last_day = pl.col("day") + pl.duration(days=self.hold_days - 1)
        return spread(
            acute, last_day=last_day, severity=int(Severity.CRITICAL), value=pl.col("score"), prefix=self.column("")
        )

    def judge(self) -> Judgement:
        severity = pl.col(self.column("d_sev")).fill_null(QUIET)
        return Judgement(severity, pl.col(self.column("d_value")), pl.lit(float(self.min_score)))

    def pain_days(self, pain: Sequence[Pain]) -> dict[int, tuple[int, float]]:
        held = []
        for reports in report_days(pain, lambda p: (p.site, p.side), self.sharp_kinds).values():
            for k, (day, score, sharp) in enumerate(reports):
                if sharp or score >= self.min_score:
                    until = day + self.hold_days - 1
                    if k + 1 < len(reports):
                        until = min(until, reports[k + 1][0] - 1)
                    held.append((day, until, float(score)))
        return spread_days(held, int(Severity.CRITICAL))

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        return row[self.column("d_sev")] or QUIET, row[self.column("d_value")], float(self.min_score)
