"""hard_surface: much of the load on asphalt, concrete, tiles, or at the impacts they give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from scoring.load import DayAggregate, days_ms
from scoring.rows import Days, Kept, Row, median, window
from scoring.rules._rule import ATHLETE, Judgement, Rule, Verdict, quiet_unless, severity_column
from scoring.schemas import DAY_MS
from scoring.severity import QUIET, Severity
from scoring.windows import rolling_sum


@dataclass(frozen=True, kw_only=True)
class HardSurface(Rule):
    """Share of the 7-day load on hard ground; alone never more than moderate.

    A session is on hard ground when declared on one of ``hard_surfaces``, or, undeclared,
    when its median impact exceeds ``inferred_ratio`` x the athlete's soft-surface baseline
    (median impact of their sessions declared on ``soft_surfaces`` over the previous
    ``soft_baseline_days``, same activity and sensor placement: g depends on placement).
    High when one of ``load_rules`` is at least moderate too.

    The week needs at least ``min_hard_sessions`` sessions on hard ground: one run on
    asphalt is no pattern of surfaces. A share alone is decided by which sessions the
    7-day window happens to hold: a runner on a weekly routine of grass, asphalt and track
    (the seed's steady runner, "mixed surfaces") has a week of only asphalt and track at
    the start of their history, or whenever the window slides past the grass day, and
    that week's share is about one half. So the count, not the calendar, decides: a single
    hard session a week never raises the rule, whatever the weekday the window starts on,
    while the seed's restart runner (asphalt every morning) has two hard sessions on day 2.

    Seed, line 59: "Author, you probably run and jump on the asphalt. It is harmful."; line
    34: "run on softer surfaces"; line 185: jumping "with my bare feet on the tiles".
    Paper: Waite et al. 2021: tibial acceleration on grass can exceed concrete, so the
    evidence is weak and the rule alone stays moderate.

    Units: share of impact-weighted steps (0-1).

    Example: daily 1 km runs on declared asphalt: share 1.0 > 0.5 -> moderate; high once
    no_rest is moderate too (day 3 for a new runner).
    """

    rule_id = "hard_surface"
    reads_load = True
    message_template = "{value:.0%} of this week's load was on hard ground (asphalt, concrete, tiles)"
    advice = "Move some sessions to softer ground (track, grass, trail) and check the shoes' cushioning."
    evidence = (
        "Weak: tibial impacts on grass can exceed those on concrete (Waite 2021), so alone it is never more "
        "than moderate."
    )

    moderate: float = 0.5
    hard_surfaces: tuple[str, ...] = ("asphalt", "concrete", "tiles")
    soft_surfaces: tuple[str, ...] = ("track", "treadmill", "grass", "trail", "carpet")
    inferred_ratio: float = 1.2
    soft_baseline_days: int = 90
    load_rules: tuple[str, ...] = ("longest_session", "acwr_spike", "weekly_ramp", "no_rest")
    min_hard_sessions: int = 2

    def reads(self) -> tuple[str, ...]:
        return self.load_rules

    def session_inputs(self) -> list[pl.Expr]:
        surface, impact = pl.col("surface"), pl.col("impact_median")
        soft_baseline = (
            pl.when(surface.is_in(self.soft_surfaces))
            .then(impact)
            .rolling_median_by("start", window_size=days_ms(self.soft_baseline_days), closed="left")
            .over([ATHLETE, "activity", "placement"])
        )
        inferred = surface.is_null() & (impact > self.inferred_ratio * soft_baseline).fill_null(False)
        return [(surface.is_in(self.hard_surfaces).fill_null(False) | inferred).alias(self.column("hard"))]

    def day_inputs(self) -> list[DayAggregate]:
        on_hard = pl.col("training") & pl.col(self.column("hard"))
        return [
            DayAggregate(self.column("d_load"), pl.when(on_hard).then(pl.col("load")), "sum", of=self._hard_load),
            DayAggregate(self.column("d_sessions"), on_hard, "sum", pl.Int64(), of=self._is_hard),
        ]

    def prepare(self) -> list[list[pl.Expr]]:
        hard_7 = rolling_sum(pl.col(self.column("d_load")), 7)
        enough = (pl.col("load_7") > 0) & (rolling_sum(pl.col(self.column("d_sessions")), 7) >= self.min_hard_sessions)
        return [[pl.when(enough).then(hard_7 / pl.col("load_7")).alias(self.column("share"))]]

    def judge(self) -> Judgement:
        share = pl.col(self.column("share"))
        flagged = (share > self.moderate).fill_null(False)
        load_rule = pl.any_horizontal(pl.col(severity_column(r)) >= int(Severity.MODERATE) for r in self.load_rules)
        severity = (
            pl.when(flagged & load_rule).then(int(Severity.HIGH)).otherwise(quiet_unless(flagged, Severity.MODERATE))
        )
        return Judgement(severity.cast(pl.Int8), share, pl.lit(self.moderate))

    def session_values(self, sessions: Sequence[Kept], j: int) -> Row:
        s = sessions[j]
        surface, impact = s["surface"], s["impact_median"]
        same = [
            e["impact_median"] if e["surface"] in self.soft_surfaces else None
            for e in window(sessions, j, s["start"] - self.soft_baseline_days * DAY_MS)
            if e["activity"] == s["activity"] and e["placement"] == s["placement"]
        ]
        soft_baseline = median(same)
        inferred = (
            surface is None
            and impact is not None
            and soft_baseline is not None
            and impact > self.inferred_ratio * soft_baseline
        )
        hard = surface in self.hard_surfaces or inferred
        return {self.column("hard"): hard}

    def _is_hard(self, session: Mapping[str, Any]) -> int:
        return int(session["training"] and session[self.column("hard")])

    def _hard_load(self, session: Mapping[str, Any]) -> float | None:
        return session["load"] if self._is_hard(session) else None

    def prepare_row(self, days: Days, i: int, row: Row) -> None:
        hard_7 = days.rolling_sum(i, self.column("d_load"), 7)
        enough = row["load_7"] > 0 and days.rolling_sum(i, self.column("d_sessions"), 7) >= self.min_hard_sessions
        row[self.column("share")] = hard_7 / row["load_7"] if enough else None

    def judge_row(self, days: Days, i: int, row: Row) -> Verdict:
        share = row[self.column("share")]
        flagged = share is not None and share > self.moderate
        load_rule = any(row[severity_column(r)] >= int(Severity.MODERATE) for r in self.load_rules)
        severity = int(Severity.HIGH) if flagged and load_rule else int(Severity.MODERATE) if flagged else QUIET
        return severity, share, self.moderate
