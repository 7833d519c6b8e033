"""shoe_wear: the shoe in use has passed its distance or its age."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from scoring.load import DayAggregate
from scoring.rows import Days, Kept, Row
from scoring.rules._rule import ATHLETE, Judgement, Rule, Verdict
from scoring.severity import QUIET, Severity
from scoring.windows import at_row, last_row


@dataclass(frozen=True, kw_only=True)
class ShoeWear(Rule):
    """Distance on the shoes of the athlete's latest day with a ``shoe_id`` (session
    ``distance_m`` when sent, else steps x ``step_length_m`` for runs), or its age since first
    seen: moderate past ``moderate_km`` or ``max_age_days``, high past ``high_km``.

    Seed, line 45: "these sneakers need to be changed quickly - either after 4 months, or
    after six months."; line 47: the sole's structure "wears out". RULES.md gives no paper.

    Units: km, days.

    Example: a shoe with 820 km -> high; one first seen 200 days ago with 300 km -> moderate.
    """

    rule_id = "shoe_wear"
    message_template = "The shoes in use have {value:.0f} km on them (over {threshold:.0f} km): worn cushioning"
    advice = "Replace the shoes, or keep these for walking."
    evidence = (
        "Weak: cushioning wears with distance and age, but no cohort ties shoe age to injury; moderate, high "
        "past 800 km."
    )

    moderate_km: float = 600.0
    high_km: float = 800.0
    max_age_days: int = 180
    step_length_m: float = 1.0

    def message(self, value: float, threshold: float, severity: Severity) -> str:
        if threshold not in (self.moderate_km, self.high_km):
            return f"The shoes in use were first worn {value:.0f} days ago (over {threshold:.0f}): time to change them"
        return super().message(value, threshold, severity)

    def session_inputs(self) -> list[pl.Expr]:
        steps_m = pl.when(pl.col("activity") == "run").then(pl.col("n_steps") * self.step_length_m)
        metres = pl.coalesce("distance_m", steps_m, pl.lit(0.0))
        shoe = [ATHLETE, "shoe_id"]
        has_shoe = pl.col("shoe_id").is_not_null()
        return [
            pl.when(has_shoe).then(metres.cum_sum().over(shoe) / 1000.0).alias(self.column("km")),
            pl.when(has_shoe).then(pl.col("day").first().over(shoe)).alias(self.column("first_day")),
        ]

    def day_inputs(self) -> list[DayAggregate]:
        # The day's most worn shoe, by distance and by age (nulls: sessions without a shoe).
        return [
            DayAggregate(self.column("d_km"), pl.col(km := self.column("km")), "max", of=lambda s: s[km]),
            DayAggregate(
                self.column("d_first_day"), pl.col(first := self.column("first_day")), "min", of=lambda s: s[first]
            ),
        ]

    def prepare(self) -> list[list[pl.Expr]]:
        worn = pl.col(self.column("d_km")).is_not_null()
        # The latest worn day as a column: read twice, it would be found twice.
        worn_row = pl.col(self.column("worn_row"))
        first_day = at_row(pl.col(self.column("d_first_day")), worn_row)
        return [
            [last_row(worn).alias(self.column("worn_row"))],
            [
                at_row(pl.col(self.column("d_km")), worn_row).alias(self.column("km_now")),
                (pl.col("day") - first_day).dt.total_days().cast(pl.Float64).alias(self.column("age")),
            ],
        ]

    def judge(self) -> Judgement:
        km, age = pl.col(self.column("km_now")), pl.col(self.column("age"))
        high, by_km = km > self.high_km, km > self.moderate_km
        by_age = age > self.max_age_days
        severity = (
            pl.when(high).then(int(Severity.HIGH)).when(by_km | by_age).then(int(Severity.MODERATE)).otherwise(QUIET)
        )
        return Judgement(
            severity.cast(pl.Int8),
            pl.when(by_km).then(km).otherwise(age),
            pl.when(high)
            .then(pl.lit(self.high_km))
            .when(by_km)
            .then(pl.lit(self.moderate_km))
            .otherwise(float(self.max_age_days)),
        )

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        shoe = s["shoe_id"]
        if shoe is None:
            return {self.column("metres"): None, self.column("km"): None, self.column("first_day"): None}
        before = next((e for e in reversed(sessions[:j]) if e["shoe_id"] == shoe), None)
        steps_m = s["n_steps"] * self.step_length_m if s["activity"] == "run" else None
        metres = s["distance_m"] if s["distance_m"] is not None else steps_m if steps_m is not None else 0.0
        total = metres if before is None else before[self.column("metres")] + metres
        return {
            self.column("metres"): total,  # the running total, as ``cum_sum`` adds it up
            self.column("km"): total / 1000.0,
            self.column("first_day"): s["day"] if before is None else before[self.column("first_day")],
        }

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        worn = row[self.column("d_km")] is not None
        for name, source in (("km_now", "d_km"), ("first_worn", "d_first_day")):
            row[self.column(name)] = row[self.column(source)] if worn else days.lag(i, self.column(name), 1)
        first = row[self.column("first_worn")]
        row[self.column("age")] = None if first is None else float(row["day"] - first)

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        km, age = row[self.column("km_now")], row[self.column("age")]
        high = km is not None and km > self.high_km
        by_km = km is not None and km > self.moderate_km
        by_age = age is not None and age > self.max_age_days
        severity = int(Severity.HIGH) if high else int(Severity.MODERATE) if by_km or by_age else QUIET
        threshold = self.high_km if high else self.moderate_km if by_km else float(self.max_age_days)
        return severity, km if by_km else age, threshold
