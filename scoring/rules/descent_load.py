"""descent_load: much of a session run downhill."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Kept
from scoring.rules._rule import Judgement, SessionRule, Verdict, judge, judge_row
from scoring.severity import Bands, Severity


@dataclass(frozen=True, kw_only=True)
class DescentLoad(SessionRule):
    """Steps on a descent as a share of the session's steps.

    A step is on a descent when the Savitzky-Golay-smoothed barometric elevation falls
    faster than 2 m per 100 steps (``scoring.features``); such steps also count 1.5x in load.

    Seed, line 71: "One section is flat, then a long descent, flat, and the last section is
    a long climb."; line 80: "By the way, descents are harder on your joints than ascents."
    Paper: Gottschall & Kram 2005 (J Biomech 38:445): at -9 degrees the impact peak is +54%
    and the braking force +73%.

    Units: share of the session's steps (0-1).

    Example: a 1 km loop with a 300-step descent in 1100 steps: 27% > 20% -> moderate.
    """

    rule_id = "descent_load"
    message_template = "{value:.0%} of the last session's steps were downhill (over {threshold:.0%})"
    advice = "Take descents slowly with short steps, or choose a flatter route for a while."
    evidence = (
        "Biomechanical: downhill at -9 degrees the impact peak is 54% and braking 73% higher (Gottschall & "
        "Kram 2005); no injury cohort."
    )

    moderate: float = 0.20
    high: float = 0.35

    def judge_session(self) -> Judgement:
        share = pl.when(pl.col("n_steps") > 0).then(pl.col("descent_steps") / pl.col("n_steps"))
        return judge(share, Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high))))

    def judge_session_row(self, session: Kept) -> Verdict:
        share = session["descent_steps"] / session["n_steps"] if session["n_steps"] > 0 else None
        return judge_row(share, Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high))))
