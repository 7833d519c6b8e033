"""no_rest: too many training days in a row, no rest day."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Row
from scoring.rules._rule import Judgement, Rule, Verdict, judge
from scoring.severity import QUIET, Bands, Severity
from scoring.windows import full_window, lag, rolling_sum, streak


@dataclass(frozen=True, kw_only=True)
class NoRest(Rule):
    """Consecutive training days, ending today (a day without a training session is a rest day).

    Seed, line 50: "And I wouldn't immediately start running every day - this is quite a
    serious load on both muscles and joints. It's better to run every other day"; line 242:
    "It is important to give the body time to recover, periodically arranging rest days".
    RULES.md gives no paper for this rule (rest days enter Foster 1998's monotony).

    Units: days. Moderate from ``new_athlete_days`` (3) for an athlete with less than
    ``new_athlete_weeks`` (6) weeks of history, from ``moderate`` (6) otherwise; high from
    ``high`` (10). Judged against the athlete's own habit: an athlete who trained on at least
    ``accustomed_share`` of the 28 days before this week is used to daily training (seed,
    line 172: "I jump 500 times every day, everything is fine") and is left to monotony.

    A day counts as training only from ``min_daily_load`` (600 impact-weighted steps, about
    six minutes of rope or half a kilometre): RULES.md's floors apply to streaks too, since
    the seed's daily jumper builds "from 50 to 500 over months" and "Nothing hurts"; the
    restart runner's daily kilometre (about 1,100 steps) counts.

    Example: a new runner on day 3 of daily runs -> moderate; an established one on day 10
    -> high, unless they trained on 24 of the 28 days before this week.
    """

    rule_id = "no_rest"
    reads_load = True
    message_template = "{value:.0f} training days in a row without a rest day"
    advice = "Take a rest day (or an easy non-impact day) before the next session."
    evidence = (
        "Expert opinion: the seed's advice to rest between runs; rest days enter Foster 1998's monotony; no "
        "cohort measured streaks, so moderate, high past 10 days."
    )

    new_athlete_days: int = 3
    new_athlete_weeks: int = 6
    moderate: int = 6
    high: int = 10
    accustomed_share: float = 0.85
    accustomed_days: int = 28
    min_daily_load: float = 600.0

    def prepare(self) -> list[list[pl.Expr]]:
        days = self.accustomed_days
        trained_before = lag(full_window(rolling_sum(pl.col("n_sessions") > 0, days), days), 7)
        accustomed = (trained_before >= self.accustomed_share * days).fill_null(False)
        trained = pl.col("load").fill_null(0) >= self.min_daily_load
        return [[accustomed.alias(self.column("accustomed")), streak(trained).alias(self.column("streak"))]]

    def judge(self) -> Judgement:
        new = pl.col("history_days") < self.new_athlete_weeks * 7
        moderate = pl.when(new).then(self.new_athlete_days).otherwise(self.moderate)
        bands = Bands(((Severity.MODERATE, moderate), (Severity.HIGH, self.high)), inclusive=True)
        return judge(pl.col(self.column("streak")), bands, gate=~pl.col(self.column("accustomed")))

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        window = self.accustomed_days
        end = i - 7  # the window ends a week ago, and must be whole
        trained_before = (
            sum(days[j]["n_sessions"] > 0 for j in range(end - window + 1, end + 1)) if end >= window - 1 else None
        )
        row[self.column("accustomed")] = trained_before is not None and trained_before >= self.accustomed_share * window
        trained = (row["load"] or 0) >= self.min_daily_load
        before = days.lag(i, self.column("streak"), 1) or 0
        row[self.column("streak")] = before + 1 if trained else 0

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        history = row["history_days"]
        new = history is not None and history < self.new_athlete_weeks * 7
        thresholds = [float(self.new_athlete_days if new else self.moderate), float(self.high)]
        bands = Bands(((Severity.MODERATE, thresholds[0]), (Severity.HIGH, thresholds[1])), inclusive=True)
        value = float(row[self.column("streak")])
        rank = QUIET if row[self.column("accustomed")] else bands.rank_of(value)
        return rank, value, bands.threshold_of(rank)
