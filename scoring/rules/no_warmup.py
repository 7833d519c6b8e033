"""no_warmup: a session that starts hard, with no easy first minutes."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Kept, Row
from scoring.rules._rule import Judgement, SessionRule, Verdict, judge, judge_row, severity_column
from scoring.severity import Bands, Severity


@dataclass(frozen=True, kw_only=True)
class NoWarmup(SessionRule):
    """Mean cadence and impact of the first 3 minutes against the session median
    (``warmup_ratio``, the larger of the two; cadence alone without impact), at or above
    ``min_ratio``; judged for athletes back from a break or with under 6 weeks of history.

    Seed, line 70: "I hardly warm up. ... While I'm walking about 50 meters, I can wave my
    arms, bend over and run."; line 77: "It's impossible not to warm up, especially if
    you've just started running after a long break."; line 187: "But warming up before is
    mandatory." RULES.md gives no paper for this rule.

    Units: ratio (dimensionless). Sessions no longer than the warm-up window have no ratio.

    Example: a new runner whose first 3 minutes average 165 spm against a median of 170:
    0.97 >= 0.9 -> moderate.
    """

    rule_id = "no_warmup"
    message_template = "The last session started at {value:.0%} of its usual pace from the first minutes: no warm-up"
    advice = "Start with 5-10 minutes of easy jogging or skipping and some mobility work before the main set."
    evidence = "Expert opinion: the seed's coaches; moderate, and only for new athletes or after a break."

    min_ratio: float = 0.9
    new_athlete_weeks: int = 6

    def judge_session(self) -> Judgement:
        return judge(pl.col("warmup_ratio"), Bands(((Severity.MODERATE, self.min_ratio),), inclusive=True))

    def reads(self) -> tuple[str, ...]:
        return ("return_from_break",)

    def gate(self) -> pl.Expr:
        back_from_break = pl.col(severity_column("return_from_break")) > 0
        return back_from_break | (pl.col("history_days") < self.new_athlete_weeks * 7).fill_null(False)

    def judge_session_row(self, session: Kept) -> Verdict:
        return judge_row(session["warmup_ratio"], Bands(((Severity.MODERATE, self.min_ratio),), inclusive=True))

    def gate_row(self, row: Row) -> bool:
        history = row["history_days"]
        new = history is not None and history < self.new_athlete_weeks * 7
        return row[severity_column("return_from_break")] > 0 or new
