"""longest_session: a session far longer than the athlete's longest of the last 30 days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.load import days_ms
from scoring.rows import Kept, Row, median, window
from scoring.rules._rule import ATHLETE, AcuteLoadRule, Judgement, SessionRule, Verdict, judge, judge_row, ratio
from scoring.schemas import DAY_MS
from scoring.severity import Bands, Severity

# Frandsen et al. 2025: the hazard ratio by how much longer than the longest of 30 days.
HAZARDS = ((2.0, "more than twice", "2.3-fold"), (1.3, "30-100% over", "1.5-fold"), (1.1, "10-30% over", "1.6-fold"))


@dataclass(frozen=True, kw_only=True)
class LongestSession(SessionRule, AcuteLoadRule):
    """A session's length / the longest session of the same activity in the previous ``window_days``.

    Length is the session's distance when the earlier sessions have one to compare with;
    otherwise its impact-weighted steps (``load``); for jump rope, jumps. Each is compared
    with the same measure of the earlier sessions. A session whose distance is not known
    (one in progress: the distance comes with its end) has it estimated from its steps at
    the athlete's own metres per step over the window, so a run on asphalt, whose harder
    landings weigh its steps up, is not judged longer live than it proves at its end.

    Seed, lines 145-149 and 141: "1 workout 400 times; 2 workout 400 times; 3 workout 700
    times; 4 training 500 times ...; 5 workout 1500 times." (then a sprained Achilles and
    knee pain); line 91: "don't do heavy loads right away! you need to GRADUALLY".
    Paper: Frandsen et al. 2025 (Br J Sports Med 59:1203; 5,205 runners, 588,071 sessions,
    1,820 injuries): a run longer than the longest run of the previous 30 days raised the
    injury hazard, HR 1.64 when 10-30% longer, 1.52 when 30-100% longer, 2.28 when more
    than twice as long; the acute:chronic ratio and weekly change showed no such link.
    So this is the load rule with evidence: moderate above ``moderate`` (1.1), high above
    ``high`` (2.0), judged live during a session too.

    Units: ratio (dimensionless). Only sessions of at least ``min_steps`` steps can raise
    it (RULES.md, Floors: 20 -> 40 jumps harms no one), and only once ``min_sessions`` earlier
    sessions of the activity fall in the window: the longest of one or two sessions is
    whichever came first, not the month's longest, and a runner new to the system (every
    runner, the day it is installed) would be flagged for the normal spread of a routine
    (4.6-4.8 km on grass after a 4.0 km street run is 1.2x). Acute-load hysteresis.

    Example: 400, 400, 700, 500 jumps, then 1500: 1500 / 700 = 2.14 > 2.0 -> high, at
    jump 1401 of the session in progress.
    """

    rule_id = "longest_session"
    message_template = "This session is {value:.1f}x the longest of the last {rule.window_days} days"
    held_template = "This session is {value:.1f}x the longest of the last {rule.window_days} days"
    advice = "Keep sessions near your usual longest, and lengthen the longest by no more than about 10% at a time."
    evidence = (
        "Strong: in 5,205 runners, a run longer than the longest of the previous 30 days raised the injury "
        "risk 1.5-1.6-fold, and more than twice as long 2.3-fold (Frandsen 2025)."
    )

    moderate: float = 1.1
    high: float = 2.0
    min_steps: int = 300
    min_sessions: int = 3
    window_days: int = 30

    def bands(self) -> Bands:
        return Bands(((Severity.MODERATE, self.moderate), (Severity.HIGH, self.high)))

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        """The ratio, and what Frandsen 2025 found for runs that much longer (its bands, whatever the team's)."""
        text = super().message(value, threshold, severity)
        if value < threshold:  # held by hysteresis: the text says so already
            return text
        for over, words, hazard in HAZARDS:
            if value > over:
                return f"{text}: in runners, a run {words} the month's longest raised the injury risk {hazard}"
        return text

    def session_inputs(self) -> list[pl.Expr]:
        window = days_ms(self.window_days)

        def longest(measure: pl.Expr) -> pl.Expr:
            return measure.rolling_max_by("start", window_size=window, closed="left").over([ATHLETE, "activity"])

        one = pl.col("start").is_not_null().cast(pl.Int64)  # a 1 per session: a literal has no length to roll
        earlier = one.rolling_sum_by("start", window_size=window, closed="left").over([ATHLETE, "activity"])
        stride = pl.when(pl.col("n_steps") > 0).then(pl.col("distance_m") / pl.col("n_steps"))
        usual_stride = stride.rolling_median_by("start", window_size=window, closed="left").over([ATHLETE, "activity"])
        return [
            usual_stride.alias(self.column("m_per_step")),
            longest(pl.col("distance_m")).alias(self.column("longest_m")),
            longest(pl.col("load")).alias(self.column("longest_load")),
            longest(pl.col("n_steps").cast(pl.Float64)).alias(self.column("longest_steps")),
            earlier.fill_null(0).alias(self.column("sessions")),
        ]

    def judge_session(self) -> Judgement:
        def over(measure: str, longest: str) -> pl.Expr:
            reference = pl.col(self.column(longest))
            return pl.when(reference > 0).then(pl.col(measure) / reference)

        rope = pl.col("activity") == "jump_rope"
        distance = pl.coalesce("distance_m", pl.col("n_steps") * pl.col(self.column("m_per_step")))
        by_distance = pl.when(pl.col(self.column("longest_m")) > 0).then(distance / pl.col(self.column("longest_m")))
        length = (
            pl.when(rope)
            .then(over("n_steps", "longest_steps"))
            .otherwise(pl.coalesce(by_distance, over("load", "longest_load")))
        )
        gate = (pl.col("n_steps") >= self.min_steps) & (pl.col(self.column("sessions")) >= self.min_sessions)
        return judge(length, self.bands(), gate=gate)

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        earlier = [
            e for e in window(sessions, j, s["start"] - self.window_days * DAY_MS) if e["activity"] == s["activity"]
        ]

        def longest(name: str) -> float | None:
            return max((float(e[name]) for e in earlier if e[name] is not None), default=None)

        strides = [
            e["distance_m"] / e["n_steps"] if e["n_steps"] > 0 and e["distance_m"] is not None else None
            for e in earlier
        ]
        return {
            self.column("m_per_step"): median(strides),
            self.column("longest_m"): longest("distance_m"),
            self.column("longest_load"): longest("load"),
            self.column("longest_steps"): longest("n_steps"),
            self.column("sessions"): len(earlier),
        }

    def judge_session_row(self, session: Kept) -> Verdict:
        def over(measure: str, longest: str) -> float | None:
            reference = session[self.column(longest)]
            return ratio(session[measure], reference) if reference is not None and reference > 0 else None

        if session["activity"] == "jump_rope":
            value = over("n_steps", "longest_steps")
        else:
            stride, longest_m = session[self.column("m_per_step")], session[self.column("longest_m")]
            distance = session["distance_m"]
            if distance is None and stride is not None:
                distance = session["n_steps"] * stride
            by_distance = ratio(distance, longest_m) if longest_m is not None and longest_m > 0 else None
            value = by_distance if by_distance is not None else over("load", "longest_load")
        gate = session["n_steps"] >= self.min_steps and session[self.column("sessions")] >= self.min_sessions
        return judge_row(value, self.bands(), gate=gate)
