"""session_spike: a session far bigger than the athlete's recent sessions of the same activity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.rows import Kept, Row
from scoring.rules._rule import ATHLETE, AcuteLoadRule, Judgement, SessionRule, Verdict, judge, judge_row, ratio
from scoring.schemas import DAY_MS
from scoring.severity import Bands, Severity


@dataclass(frozen=True, kw_only=True)
class SessionSpike(SessionRule, AcuteLoadRule):
    """A session's load / the largest of the athlete's previous 4 sessions of the same activity within 28 days.

    Off by default (``enabled = true`` in a team's thresholds brings it back):
    ``longest_session`` judges the same spike against the longest session of 30 days, the
    measure a large cohort tied to injury (Frandsen et al. 2025), and two reasons saying
    one thing would count twice towards the level.

    Seed, lines 145-149 and 141: "1 workout 400 times; 2 workout 400 times; 3 workout 700
    times; 4 training 500 times ...; 5 workout 1500 times." / "The coach said to jump further,
    at that moment 1500 times." (then a sprained Achilles tendon and knee pain); line 91:
    "don't do heavy loads right away! you need to GRADUALLY".
    Paper: Impellizzeri et al. 2020 (Int J Sports Physiol Perform 15:907): the ACWR is a
    rescaled acute load and misses a spike in a short history, so each session is judged
    against the recent sessions directly; Gabbett 2016 (Br J Sports Med 50:273) for spikes.

    Units: ratio of impact-weighted steps (dimensionless). Only sessions of at least
    ``min_steps`` steps can raise it (20 -> 40 jumps harms no one). Acute-load hysteresis.

    Example: 400, 400, 700, 500 jumps, then 1500: 1500 / 700 = 2.14 > 2.0 -> high.
    """

    rule_id = "session_spike"
    reads_load = True
    message_template = (
        "This session's load is {value:.1f}x the largest of the previous "
        "{rule.previous_sessions} sessions: the load jumped too fast"
    )
    held_template = "This session's load is {value:.1f}x the largest of the previous {rule.previous_sessions} sessions"
    advice = "Stop or shorten the session, then build the volume up gradually from the usual sessions."
    evidence = (
        "Superseded by longest_session, the same idea measured as a large cohort found it tied to injury "
        "(Frandsen 2025); off unless a team turns it on."
    )

    enabled: bool = False

    moderate: float = 1.5
    high: float = 2.0
    min_steps: int = 300
    previous_sessions: int = 4
    window_days: int = 28

    def bands(self) -> Bands:
        return Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high)))

    def session_inputs(self) -> list[pl.Expr]:
        group = [ATHLETE, "activity"]
        start, load = pl.col("start"), pl.col("load")
        window = self.window_days * DAY_MS
        recent = [
            pl.when(start - start.shift(k) <= window).then(load.shift(k)).over(group)
            for k in range(1, self.previous_sessions + 1)
        ]
        return [pl.max_horizontal(recent).alias(self.column("reference"))]

    def judge_session(self) -> Judgement:
        reference = pl.col(self.column("reference"))
        spike = pl.when(reference > 0).then(pl.col("load") / reference)
        return judge(spike, self.bands(), gate=pl.col("n_steps") >= self.min_steps)

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        previous = [e for e in sessions[:j] if e["activity"] == s["activity"]][-self.previous_sessions :]
        loads = [e["load"] for e in previous if s["start"] - e["start"] <= self.window_days * DAY_MS]
        return {self.column("reference"): max(loads, default=None)}

    def judge_session_row(self, session: Kept) -> Verdict:
        reference = session[self.column("reference")]
        value = ratio(session["load"], reference) if reference is not None and reference > 0 else None
        return judge_row(value, self.bands(), gate=session["n_steps"] >= self.min_steps)
