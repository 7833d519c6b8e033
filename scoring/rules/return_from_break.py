"""return_from_break: a hard start after a long break, with no gradual build-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.load import DayAggregate, days_ms
from scoring.rows import Days, Kept, Row, median, window
from scoring.rules._rule import ATHLETE, Judgement, Rule, Verdict, quiet_unless
from scoring.schemas import DAY_MS
from scoring.severity import QUIET, Severity
from scoring.windows import ROW, at_row, lag, last_row


@dataclass(frozen=True, kw_only=True)
class ReturnFromBreak(Rule):
    """At least ``break_days`` days without a training session, then within ``window_days``
    a daily load above ``load_share`` of the pre-break typical session, or training on
    ``days_running`` days running; high when pain (score >= ``pain_score``) is reported too.

    Seed, line 98: "I haven't run for many years."; line 53: "I'm a former athlete. There was
    a long break."; line 77: "It's impossible not to warm up, especially if you've just
    started running after a long break."
    RULES.md gives no paper for this rule (it is Gabbett 2016's spike on a low chronic load).

    Units: the day's load / the pre-break typical session (median session load over the 28
    days up to the last session before the break), or days in a row. An athlete with no
    sessions before the break is new, not returning (no_rest and no_warmup cover them).

    Example: sessions of ~4000 until day 0, nothing for 20 days, then 2500 on day 21:
    2500 / 4000 = 0.63 > 0.5 -> moderate for the rest of that first week.
    """

    rule_id = "return_from_break"
    reads_load = True
    message_template = (
        "Back after a break of {rule.break_days}+ days, a day's load reached {value:.0%} of a typical session before it"
    )
    advice = "Restart at a third to a half of the old volume, with rest days between sessions, and warm up."
    evidence = (
        "Expert opinion: the seed's stories and Gabbett 2016's spikes on a low chronic load; no cohort "
        "measured it directly, so moderate, high with pain."
    )

    break_days: int = 14
    window_days: int = 7
    load_share: float = 0.5
    days_running: int = 3
    pain_score: int = 3
    typical_days: int = 28

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        if threshold == self.days_running:
            return f"Back after a break of {self.break_days}+ days, {value:.0f} training days in a row straight away"
        return super().message(value, threshold, severity)

    def session_inputs(self) -> list[pl.Expr]:
        typical = (
            pl.when(pl.col("training"))
            .then(pl.col("load"))
            .rolling_median_by("start", window_size=days_ms(self.typical_days), closed="right")
        )
        # As of the previous session: on the first day back, that is the last one before the break.
        return [typical.shift(1).over(ATHLETE).alias(self.column("typical"))]

    def day_inputs(self) -> list[DayAggregate]:
        typical = self.column("typical")
        return [DayAggregate(self.column("d_typical"), pl.col(typical), "first", of=lambda s: s[typical])]

    def prepare(self) -> list[list[pl.Expr]]:
        trained = pl.col("n_sessions") > 0
        typical_today = pl.col(self.column("d_typical"))
        gap = (pl.col("day") - lag(at_row(pl.col("day"), pl.col("last_training_row")), 1)).dt.total_days()
        returning = trained & (gap > self.break_days) & (typical_today > 0)
        back, in_window = pl.col(self.column("back")), pl.col(self.column("in_window"))
        share, streak = pl.col(self.column("share")), pl.col(self.column("streak"))
        triggered = ((share > self.load_share) | (streak >= self.days_running)).fill_null(False)
        return [
            [returning.alias(self.column("returning"))],
            [last_row(pl.col(self.column("returning"))).alias(self.column("back"))],
            [(pl.col(ROW) - back < self.window_days).fill_null(False).alias(self.column("in_window"))],
            [
                pl.when(in_window).then(pl.col("load") / typical_today.gather(back)).alias(self.column("share")),
                pl.when(in_window).then(pl.col("streak")).alias(self.column("streak")),
                (last_row(pl.col("pain_max") >= self.pain_score) >= back).fill_null(False).alias(self.column("pain")),
            ],
            [
                (in_window & (last_row(triggered) >= back).fill_null(False)).alias(self.column("active")),
                # Worst since the return: the window cannot reach the previous athlete, because a
                # return needs 14 quiet days of this athlete's own calendar before it.
                share.rolling_max(self.window_days, min_samples=1).alias(self.column("worst_share")),
                streak.rolling_max(self.window_days, min_samples=1).alias(self.column("worst_streak")),
            ],
        ]

    def judge(self) -> Judgement:
        active, pain = pl.col(self.column("active")), pl.col(self.column("pain"))
        worst_share = pl.col(self.column("worst_share"))
        hard = worst_share > self.load_share
        severity = pl.when(active & pain).then(int(Severity.HIGH)).otherwise(quiet_unless(active, Severity.MODERATE))
        return Judgement(
            severity.cast(pl.Int8),
            pl.when(hard).then(worst_share).otherwise(pl.col(self.column("worst_streak")).cast(pl.Float64)),
            pl.when(hard).then(pl.lit(self.load_share)).otherwise(float(self.days_running)),
        )

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        if j == 0:
            return {self.column("typical"): None}
        # As of the previous session (of any activity): the median over the window that ends with it.
        previous = sessions[j - 1]
        span = window(sessions, j - 1, previous["start"] - self.typical_days * DAY_MS, closed="right")
        return {self.column("typical"): median(s["load"] if s["training"] else None for s in span)}

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        def carried(name: str, now: bool) -> int | None:
            return i if now else days.lag(i, self.column(name), 1)

        trained = row["n_sessions"] > 0
        typical_today = row[self.column("d_typical")]
        last_training = days.lag(i, "last_training_row", 1)
        gap = None if last_training is None else i - last_training  # rows are consecutive days
        returning = (
            trained and gap is not None and gap > self.break_days and typical_today is not None and typical_today > 0
        )
        back = row[self.column("back")] = carried("back", returning)
        in_window = back is not None and i - back < self.window_days
        share = row["load"] / days[back][self.column("d_typical")] if in_window and back is not None else None
        streak = row["streak"] if in_window else None
        row[self.column("share")], row[self.column("streak")] = share, streak
        pain_day = row[self.column("pain_day")] = carried("pain_day", (row["pain_max"] or -1) >= self.pain_score)
        row[self.column("pain")] = pain_day is not None and back is not None and pain_day >= back
        triggered = (share is not None and share > self.load_share) or (
            streak is not None and streak >= self.days_running
        )
        last_triggered = row[self.column("triggered_day")] = carried("triggered_day", triggered)
        row[self.column("active")] = (
            in_window and last_triggered is not None and back is not None and last_triggered >= back
        )

        def worst(name: str) -> float | None:
            values = [days[k][self.column(name)] for k in range(max(i - self.window_days + 1, 0), i + 1)]
            return max((float(v) for v in values if v is not None), default=None)

        row[self.column("worst_share")], row[self.column("worst_streak")] = worst("share"), worst("streak")

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        active, pain = row[self.column("active")], row[self.column("pain")]
        worst_share = row[self.column("worst_share")]
        hard = worst_share is not None and worst_share > self.load_share
        severity = int(Severity.HIGH) if active and pain else int(Severity.MODERATE) if active else QUIET
        value = worst_share if hard else row[self.column("worst_streak")]
        return severity, value, self.load_share if hard else float(self.days_running)
