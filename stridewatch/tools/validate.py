"""``stridewatch validate``: does each rule warn before pain, for this team? The store in, a table out.

For each team, the daily timeline is recomputed from the stored session features and pain
reports with the team's thresholds and time zone (not read from the alerts the service
happened to send, so other thresholds can be tried), and ``scoring.validation`` measures
every rule against the team's own outcomes (``--outcome``: any pain, injuries or soreness).
A team with no outcome gets one line saying so instead of a table of 0/0.

``--suggest`` writes the per-team threshold changes ``scoring.tuning`` finds, checked against
the seed's stories (``stridewatch.tools.stories``), and only for the rules the team's data can
judge (``judged``: the team has ``MIN_OUTCOMES`` outcome episodes, and the rule raised often
enough to tell): with too few outcomes every quieter threshold "keeps" the nothing it caught,
and muting a rule on that ground would be the data's silence taken for advice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from ingest.store import Store
from scoring import timeline
from scoring.schemas import ATHLETE_KEYS
from scoring.thresholds import Thresholds
from scoring.tuning import TUNABLE, Suggestion, candidates, suggest
from scoring.validation import ANY, MIN_OUTCOMES, Outcome, ratio_text, validate
from stridewatch.progress import progress_bar
from stridewatch.teams import TeamConfig, TeamsConfig
from stridewatch.tools.stories import story_failures


@dataclass(frozen=True, eq=False)
class TeamData:
    """A team's stored session features and pain reports, and the time they run up to."""

    config: TeamConfig
    sessions: pl.DataFrame
    wellness: pl.DataFrame
    at: int  # just after the last session's end or report

    @property
    def tz(self) -> str:
        return self.config.timezone.key


@dataclass(frozen=True, eq=False)
class TeamValidation:
    team: str
    athletes: int
    days: int
    horizon_days: int
    table: pl.DataFrame  # scoring.validation.VALIDATION_SCHEMA
    outcome: Outcome

    @property
    def episodes(self) -> int:
        """The team's outcome episodes (every row holds the count)."""
        found = self.table["episodes"].max()
        return found if isinstance(found, int) else 0

    def unjudged(self) -> str | None:
        """Why none of the team's rules can be judged, in words; None when they can."""
        noun = self.outcome.episodes_noun
        if not self.episodes:
            return f"no {noun} in the data ({self.outcome.described}): nothing to judge the rules against"
        if self.episodes < MIN_OUTCOMES:
            return f"too few {noun} to judge: {self.episodes} in the data, {MIN_OUTCOMES} needed"
        return None

    def judged_rules(self) -> set[str]:
        """The rules with a row the data can judge (``VALIDATION_SCHEMA``'s ``judged``)."""
        return set(self.table.filter(pl.col("judged"))["rule"])


def load_teams(store: Store, teams: TeamsConfig, *, team: str | None = None) -> list[TeamData]:
    """Each team's data in the store (only ``team`` when given), with its settings."""
    sessions, wellness = store.session_features(team=team), store.pain(team=team)
    found = []
    for team_id in sorted(set(sessions["team"]) | set(wellness["team"])):
        own_sessions = sessions.filter(pl.col("team") == team_id)
        own_wellness = wellness.filter(pl.col("team") == team_id)
        last = [t for t in (own_sessions["end_ts"].max(), own_wellness["ts"].max()) if isinstance(t, int)]
        found.append(TeamData(teams.team(team_id), own_sessions, own_wellness, max(last) + 1))
    return found


def validate_team(
    data: TeamData, *, horizon_days: int, draws: int, seed: int, outcome: Outcome = ANY
) -> TeamValidation:
    thresholds = data.config.thresholds
    days = timeline(data.sessions, data.wellness, at=data.at, thresholds=thresholds, tz=data.tz)
    table = validate(
        days,
        data.sessions,
        data.wellness,
        rule_ids=[rule.rule_id for rule in thresholds.rules()],
        rng=np.random.default_rng(seed),
        horizon_days=horizon_days,
        tz=data.tz,
        load=thresholds.load,
        outcome=outcome,
        draws=draws,
    )
    athletes = days.select(ATHLETE_KEYS).n_unique()
    return TeamValidation(data.config.team_id, athletes, days.height, horizon_days, table, outcome)


def suggest_team(data: TeamData, result: TeamValidation, *, advance: Callable[[], None]) -> list[Suggestion]:
    """The team's threshold changes for the rules its data can judge (none when it can judge none);
    none may cost a seed story its expectations."""
    judged = result.judged_rules()
    if not judged:
        return []
    current = data.config.thresholds

    def untouched(trial: Thresholds) -> bool:
        """Only judged rules' thresholds changed."""
        return all(
            getattr(trial.rule(r), f) == getattr(current.rule(r), f) for r, f in TUNABLE.items() if r not in judged
        )

    return suggest(
        data.sessions,
        data.wellness,
        thresholds=current,
        at=data.at,
        tz=data.tz,
        horizon_days=result.horizon_days,
        outcome=result.outcome,
        allowed=lambda trial: untouched(trial) and not story_failures(trial),
        advance=advance,
    )


def suggestions_toml(
    results: Sequence[TeamValidation], suggestions: dict[str, list[Suggestion]], *, horizon_days: int
) -> str:
    """``[teams.<id>.thresholds.<rule>]`` sections for ``teams.toml``, each value with its trade, and
    for a team without any why not."""
    outcome = results[0].outcome if results else ANY
    lines = [
        "# Suggested by `stridewatch validate --suggest`: per-team thresholds measured against each",
        f"# team's own {outcome.episodes_noun} ({outcome.described}, {horizon_days}-day horizon). Each value cuts",
        f"# a rule's raises and catches at least as many {outcome.episodes_noun}; none makes a seed story (simulators/scenarios)",
        f"# miss what RULES.md expects of it. Only rules of teams with {MIN_OUTCOMES}+ outcome episodes are",
        "# tuned. Merge the sections you agree with into teams.toml.",
    ]
    for result in results:
        found = suggestions.get(result.team, [])
        if not found:
            why = result.unjudged() or f"no threshold cuts raises without missing one of the {outcome.episodes_noun}"
            lines += ["", f"# {result.team}: {why}; nothing suggested."]
        for s in found:
            lines += ["", f"[teams.{result.team}.thresholds.{s.rule}]", f"{s.field} = {s.value!r}  # {s.trade()}"]
    return "\n".join(lines) + "\n"


def as_json(results: Sequence[TeamValidation]) -> str:
    return json.dumps(
        [
            {"team": r.team, "athletes": r.athletes, "days": r.days, "horizon_days": r.horizon_days,
             "outcome": r.outcome.name, "episodes": r.episodes, "unjudged": r.unjudged(), "rules": r.table.to_dicts()}
            for r in results
        ],
        indent=2,
    )  # fmt: skip


def finite(value: object) -> float | None:
    """A finite float, or None for what has no value (null, NaN)."""
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def percent(value: object, low: object = None, high: object = None) -> str:
    """``34% (25-44%)``: a share with its interval, each part left out when it has no value."""
    share, low, high = finite(value), finite(low), finite(high)
    if share is None:
        return "-"
    interval = f" ({low * 100:.0f}-{high:.0%})" if low is not None and high is not None else ""
    return f"{share:.0%}{interval}"


def answer(row: dict[str, object]) -> str:
    """The verdict in a few words, for the table (the JSON has the sentence)."""
    if not row["raises"]:
        return "never raised"
    if (finite(row["episodes"]) or 0) < MIN_OUTCOMES:
        return str(row["verdict"]).split(":")[0]  # "too few injuries to judge"
    if not row["independent"]:
        return "follows pain"
    if row["beats_chance"]:
        return "yes"
    return "no" if row["judged"] else "too few raises"


COLUMNS = ("rule", "severity", "raises", "followed", "without warning", "relative risk", "random days", "p",
           "beats chance?", "caught", "lead days")  # fmt: skip
RIGHT_ALIGNED = {"raises", "followed", "without warning", "relative risk", "random days", "p", "caught", "lead days"}


def cells(row: dict[str, object]) -> dict[str, str]:
    """A row of the table as printed, by column; the plot labels its rows with the same strings."""
    p, lead = finite(row["p_value"]), finite(row["median_lead_days"])
    return dict(
        zip(
            COLUMNS,
            (
                str(row["rule"]),
                str(row["severity"] or "-"),
                f"{row['raises']:,}",
                percent(row["precision"], row["precision_low"], row["precision_high"]),
                percent(row["baseline_risk"]),
                ratio_text(finite(row["relative_risk"]), finite(row["rr_low"]), finite(row["rr_high"])),
                percent(row["chance_precision"], row["chance_low"], row["chance_high"]),
                "-" if p is None else f"{p:.3f}",
                answer(row),
                f"{row['caught']}/{row['episodes']}",
                "-" if lead is None else f"{lead:.1f}",
            ),
            strict=True,
        )
    )


def table(result: TeamValidation) -> Table:
    """The team's rows as a coach reads them: the rule, what followed its raises, against its absence
    and against chance."""
    h, outcome, too_few = result.horizon_days, result.outcome, result.unjudged()
    out = Table(
        title=f"{result.team}: does each rule warn before {outcome.noun}? ({result.athletes} athletes, "
        f"{result.days:,} athlete-days, {outcome.noun} within {h} days" + (f"; {too_few})" if too_few else ")"),
        caption=f"followed: raises followed within {h} days by {outcome.noun} ({outcome.described}) from the "
        "athlete; without warning: the same share of the days the rule did not warn; relative risk: the first "
        "over the second (interval from resampled athletes; inf: the data cannot bound it); random days: as many "
        "raises on random days of the same athletes; p: the share of random draws as good; caught: "
        f"{outcome.episodes_noun} with a raise in the {h} days before them. Intervals: 95%. 'follows pain': the rule reads the pain reports, it cannot "
        "predict them.",
    )
    for column in COLUMNS:
        out.add_column(column, justify="right" if column in RIGHT_ALIGNED else "left")
    for row in result.table.iter_rows(named=True):
        out.add_row(
            *cells(row).values(),
            style="bold green" if row["beats_chance"] else ("dim" if not row["independent"] else None),
        )
    return out


def print_tables(results: Sequence[TeamValidation], console: Console | None = None) -> None:
    """Each team's table; one line for a team with no outcome at all."""
    console = console or Console()
    for result in results:
        if result.episodes:
            console.print(table(result))
        else:
            line = f"{result.team}: {result.unjudged()} ({result.athletes} athletes, {result.days:,} athlete-days)."
            console.print(line, soft_wrap=True, markup=False)


@contextmanager
def _steps(enabled: bool, description: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar; yields the function that advances it by one."""
    with progress_bar(enabled) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def run(
    db_url: str,
    teams: TeamsConfig,
    *,
    team: str | None = None,
    horizon_days: int = 14,
    outcome: Outcome = ANY,
    draws: int = 500,
    seed: int = 0,
    json_out: bool = False,
    suggest_to: Path | None = None,
    progress: bool = True,
) -> list[TeamValidation]:
    """The whole command but its picture (`stridewatch.tools.validate_plot`): measure each team, print the
    table or JSON, write the suggestions."""
    with Store(db_url) as store:
        store.migrate()
        data = load_teams(store, teams, team=team)
    with _steps(progress, "measuring teams", len(data)) as advance:
        results = []
        for team_data in data:
            results.append(validate_team(team_data, horizon_days=horizon_days, draws=draws, seed=seed, outcome=outcome))
            advance()
    if json_out:
        print(as_json(results))
    else:
        print_tables(results)
    if suggest_to is not None:
        # A bound: rules off are skipped, and teams in which no rule is judged are not tuned.
        steps = sum(1 + len(candidates(1.0)) * len(TUNABLE) for r in results if r.judged_rules())
        with _steps(progress, "trying thresholds", steps) as advance:
            found = {r.team: suggest_team(d, r, advance=advance) for d, r in zip(data, results, strict=True)}
        suggest_to.write_text(suggestions_toml(results, found, horizon_days=horizon_days), encoding="utf-8")
    return results
