"""fatigue: within a session, cadence falls and impact rises: form breaking down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.load import days_ms
from scoring.rows import Kept, Row, window
from scoring.rules._rule import ATHLETE, Judgement, SessionRule, Verdict, ratio
from scoring.schemas import DAY_MS
from scoring.severity import QUIET, Severity


@dataclass(frozen=True, kw_only=True)
class Fatigue(SessionRule):
    """Form breakdown (last third vs first third: cadence down by ``cadence_drop`` and impact
    up by ``impact_rise``) or a session longer than ``duration_ratio`` x the longest the
    athlete lasted in the activity over the previous ``usual_days`` (at least
    ``usual_min_sessions`` sessions): moderate for one, high for both.

    The duration is measured against the athlete's longest, not their median: a weekly long
    run twice the length of the other runs is routine, not fatigue building up (measured
    against the median, a real recreational runner's year raised it for 15 runs of 68).

    Seed, line 168: "You jump for 15-20 minutes straight, and then you still whine that
    something hurts." RULES.md gives no paper for this rule.

    Units: fractional changes (0.05 = 5%), duration ratio (dimensionless).

    Example: cadence 160 -> 150 spm (-6%) and impact 5.0 -> 5.6 g (+12%): moderate; in a
    session 1.8x the longest of the last four weeks too: high.
    """

    rule_id = "fatigue"
    message_template = "In the last third of the session impact rose {value:.0%} while cadence fell: form breaking down"
    advice = "End sessions when form fades; split long sessions into sets with breaks."
    evidence = "Expert opinion and biomechanics of form breaking down (the seed); moderate, high only with both signs."

    cadence_drop: float = 0.05
    impact_rise: float = 0.10
    duration_ratio: float = 1.5
    usual_days: int = 28
    usual_min_sessions: int = 3

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        if threshold != self.duration_ratio:
            return super().message(value, threshold, severity)
        text = f"The session ran {value:.1f}x your longest of the last {self.usual_days} days"
        if severity >= Severity.HIGH:
            return text + " and your form broke down in its last third (cadence down, impact up)"
        return text + ": fatigue builds up"

    def session_inputs(self) -> list[pl.Expr]:
        usual = pl.col("duration").rolling_max_by(
            "start", window_size=days_ms(self.usual_days), closed="left", min_samples=self.usual_min_sessions
        )
        return [usual.over([ATHLETE, "activity"]).alias(self.column("usual"))]

    def judge_session(self) -> Judgement:
        impact_change = pl.col("fatigue_impact_change")
        form = (pl.col("fatigue_cadence_change") <= -self.cadence_drop) & (impact_change >= self.impact_rise)
        length = pl.col("duration") / pl.col(self.column("usual"))
        long = length > self.duration_ratio
        form, long = form.fill_null(False), long.fill_null(False)
        severity = (
            pl.when(form & long)
            .then(int(Severity.HIGH))
            .when(form | long)
            .then(int(Severity.MODERATE))
            .otherwise(QUIET)
        )
        return Judgement(
            severity.cast(pl.Int8),
            pl.when(long).then(length).otherwise(impact_change),
            pl.when(long).then(pl.lit(self.duration_ratio)).otherwise(self.impact_rise),
        )

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        durations = [
            e["duration"]
            for e in window(sessions, j, s["start"] - self.usual_days * DAY_MS)
            if e["activity"] == s["activity"] and e["duration"] is not None
        ]
        return {self.column("usual"): max(durations) if len(durations) >= self.usual_min_sessions else None}

    def judge_session_row(self, session: Kept) -> Verdict:
        cadence, impact = session["fatigue_cadence_change"], session["fatigue_impact_change"]
        form = (
            cadence is not None and impact is not None and cadence <= -self.cadence_drop and impact >= self.impact_rise
        )
        length = ratio(session["duration"], session[self.column("usual")])
        long = length is not None and length > self.duration_ratio
        severity = int(Severity.HIGH) if form and long else int(Severity.MODERATE) if form or long else QUIET
        return severity, length if long else impact, self.duration_ratio if long else self.impact_rise
