"""asymmetry: left and right impacts differ far more than the athlete's usual."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.load import days_ms
from scoring.rows import Kept, Row, window
from scoring.rules._rule import ATHLETE, Judgement, SessionRule, Verdict, judge
from scoring.schemas import DAY_MS
from scoring.severity import Bands, Severity


def symmetry_index(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """100 x |L - R| / mean(L, R), in %; null without both feet."""
    return 100.0 * (left - right).abs() / ((left + right) / 2.0)


@dataclass(frozen=True, kw_only=True)
class Asymmetry(SessionRule):
    """Symmetry index of the mean impact per foot, above ``moderate`` / ``high`` % and above
    the athlete's own mean + ``sd_factor`` SD (their previous sessions with the same sensor
    placement over ``window_days``, at least ``min_sessions`` of them; absolute thresholds
    alone before that).

    Seed, line 141: "And in order to reduce the pain in my knee, my body adapted and jumped
    without pain." (compensation). RULES.md gives no paper for this rule.

    Units: % (symmetry index).

    Example: L 8.0 g, R 6.0 g: 100 x 2 / 7 = 28.6% -> high when the athlete's usual
    mean + 2 SD is below 28.6%.
    """

    rule_id = "asymmetry"
    message_template = (
        "Left and right impacts differ by {value:.0f}% (usual under {threshold:.0f}%): likely compensating"
    )
    advice = "Check for pain or injury on one side before the next session; see a physio if it persists."
    evidence = (
        "Clinical reasoning: a change from the athlete's own left/right balance suggests compensating for "
        "pain (the seed); no cohort."
    )

    moderate: float = 10.0
    high: float = 20.0
    sd_factor: float = 2.0
    window_days: int = 90
    min_sessions: int = 3

    def session_inputs(self) -> list[pl.Expr]:
        index = symmetry_index(pl.col("impact_mean_L"), pl.col("impact_mean_R"))
        window, least = days_ms(self.window_days), self.min_sessions
        mean = index.rolling_mean_by("start", window_size=window, closed="left", min_samples=least)
        sd = index.rolling_std_by("start", window_size=window, closed="left", min_samples=least)
        usual = mean + self.sd_factor * sd
        return [usual.over([ATHLETE, "placement"]).alias(self.column("usual"))]

    def judge_session(self) -> Judgement:
        usual = pl.col(self.column("usual"))
        bands = Bands(
            (
                (Severity.MODERATE, pl.max_horizontal(pl.lit(self.moderate), usual)),
                (Severity.HIGH, pl.max_horizontal(pl.lit(self.high), usual)),
            )
        )
        return judge(symmetry_index(pl.col("impact_mean_L"), pl.col("impact_mean_R")), bands)

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        indices = [
            index
            for e in window(sessions, j, s["start"] - self.window_days * DAY_MS)
            if e["placement"] == s["placement"] and (index := _index(e)) is not None
        ]
        if len(indices) < max(self.min_sessions, 2):  # a sample SD needs two
            return {self.column("usual"): None}
        total = 0.0
        for x in indices:
            total += x
        mean = total / len(indices)
        sd = math.sqrt(sum((x - mean) ** 2 for x in indices) / (len(indices) - 1))
        return {self.column("usual"): mean + self.sd_factor * sd}

    def judge_session_row(self, session: Kept) -> Verdict:
        usual = session[self.column("usual")]
        thresholds = [max(self.moderate, usual) if usual is not None else self.moderate,
                      max(self.high, usual) if usual is not None else self.high]  # fmt: skip
        bands = Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high)))
        index = _index(session)
        rank = bands.rank_of(index, thresholds)
        return rank, index, bands.threshold_of(rank, thresholds)


def _index(session: Kept) -> float | None:
    """`symmetry_index` of one session."""
    left, right = session["impact_mean_L"], session["impact_mean_R"]
    if left is None or right is None:
        return None
    return float(100.0 * abs(left - right) / ((left + right) / 2.0))
