"""monotony: the same load day after day (Foster's training monotony and strain)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from scoring.rows import Days, Row, quantile
from scoring.rules._rule import ATHLETE, Judgement, Rule, Verdict, quiet_unless, ratio
from scoring.severity import QUIET, Severity
from scoring.windows import lag, rolling_quantile


@dataclass(frozen=True, kw_only=True)
class Monotony(Rule):
    """Monotony (7-day mean daily load / population SD, rest days as 0) above ``moderate``
    while strain (7-day load x monotony) is above the athlete's own ``strain_percentile``;
    high when the EWMA ACWR is also above ``acwr_high``.

    Seed, line 242: "periodically arranging rest days, and regularly changing the training
    program"; line 78: "it is better to alternate exercises in order to allow the muscles
    and joints to recover a little."
    Paper: Foster 1998 (Med Sci Sports Exerc 30:1164). Monotony is capped at
    ``scoring.ewma.MONOTONY_CAP`` (identical loads give an SD of 0).

    Units: monotony is dimensionless, strain is impact-weighted steps. The athlete's strain
    percentile is taken over the ``strain_history_days`` days that end ``strain_lag_days``
    days ago (at least ``min_strain_days`` of them): a percentile that includes the last
    weeks adapts to a sustained overload within days and hides the very thing it should show.

    Example: loads [5, 15, 20, 20, 20, 25, 35] give monotony 2.37 and strain 331.3 ->
    moderate if 331.3 is above the athlete's usual 90th percentile of strain.
    """

    rule_id = "monotony"
    reads_load = True
    message_template = "Training monotony is {value:.1f} (over {threshold:.1f}) with strain above your usual: the same load day after day"
    advice = "Vary the sessions: alternate hard and easy days and plan a rest day each week."
    evidence = (
        "Moderate: Foster 1998 tied high monotony with high strain to illness and overreaching, not to "
        "running injury as such; high only with a load spike."
    )

    moderate: float = 2.0
    strain_percentile: float = 0.9
    strain_history_days: int = 182
    strain_lag_days: int = 21
    min_strain_days: int = 28
    acwr_high: float = 1.3

    def prepare(self) -> list[list[pl.Expr]]:
        usual = rolling_quantile(
            pl.col("strain"),
            self.strain_percentile,
            interpolation="linear",
            window_size=self.strain_history_days,
            min_samples=self.min_strain_days,
            over=ATHLETE,
        )
        usual_then = pl.col(self.column("usual"))
        flagged = (pl.col("monotony") > self.moderate) & (pl.col("strain") > usual_then)
        return [
            [lag(usual, self.strain_lag_days).alias(self.column("usual"))],
            [
                flagged.fill_null(False).alias(self.column("flagged")),
                (pl.col("strain") / usual_then).alias(self.column("strain_over_usual")),
            ],
        ]

    def judge(self) -> Judgement:
        flagged = pl.col(self.column("flagged"))
        high = flagged & (pl.col("acwr") > self.acwr_high).fill_null(False)
        severity = pl.when(high).then(int(Severity.HIGH)).otherwise(quiet_unless(flagged, Severity.MODERATE))
        return Judgement(severity.cast(pl.Int8), pl.col("monotony"), pl.lit(self.moderate))

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        end = i - self.strain_lag_days
        usual = None
        if end >= 0:
            strains = [days.strain(j) for j in range(max(end - self.strain_history_days + 1, 0), end + 1)]
            if sum(s is not None for s in strains) >= self.min_strain_days:
                usual = quantile(strains, self.strain_percentile)
        row[self.column("usual")] = usual
        monotony, strain = row["monotony"], row["strain"]
        row[self.column("flagged")] = (
            monotony is not None
            and strain is not None
            and usual is not None
            and monotony > self.moderate
            and strain > usual
        )
        row[self.column("strain_over_usual")] = ratio(strain, usual)

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        flagged = row[self.column("flagged")]
        acwr = row["acwr"]
        high = flagged and acwr is not None and acwr > self.acwr_high
        severity = int(Severity.HIGH) if high else int(Severity.MODERATE) if flagged else QUIET
        return severity, row["monotony"], self.moderate
