"""``stridewatch validate``: does each rule warn before pain, for this team? The store in, a table out.

For each team, the daily timeline is recomputed from the stored session features and pain
reports with the team's thresholds and time zone (not read from the alerts the service
happened to send, so other thresholds can be tried), and ``scoring.validation`` measures
every rule against the team's own pain reports. ``--suggest`` writes the per-team threshold
changes ``scoring.tuning`` finds, checked against the seed's stories (``stridewatch.tools.stories``).
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
from scoring.tuning import Suggestion, suggest
from scoring.validation import validate
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


def validate_team(data: TeamData, *, horizon_days: int, draws: int, seed: int) -> TeamValidation:
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
        draws=draws,
    )
    athletes = days.select(ATHLETE_KEYS).n_unique()
    return TeamValidation(data.config.team_id, athletes, days.height, horizon_days, table)


def suggest_team(data: TeamData, *, horizon_days: int, advance: Callable[[], None]) -> list[Suggestion]:
    """The team's threshold changes; none may cost a seed story its expectations."""
    return suggest(
        data.sessions,
        data.wellness,
        thresholds=data.config.thresholds,
        at=data.at,
        tz=data.tz,
        horizon_days=horizon_days,
        allowed=lambda trial: not story_failures(trial),
        advance=advance,
    )


def suggestions_toml(suggestions: dict[str, list[Suggestion]], *, horizon_days: int) -> str:
    """``[teams.<id>.thresholds.<rule>]`` sections for ``teams.toml``, each value with its trade."""
    lines = [
        "# Suggested by `stridewatch validate --suggest`: per-team thresholds measured against each",
        f"# team's own pain reports ({horizon_days}-day horizon). Each value cuts a rule's raises and",
        "# catches at least as many pain episodes; none makes a seed story (simulators/scenarios)",
        "# miss what RULES.md expects of it. Merge the sections you agree with into teams.toml.",
    ]
    for team, found in suggestions.items():
        if not found:
            lines += ["", f"# {team}: no threshold cuts raises without missing a pain episode."]
        for s in found:
            lines += ["", f"[teams.{team}.thresholds.{s.rule}]", f"{s.field} = {s.value!r}  # {s.trade()}"]
    return "\n".join(lines) + "\n"


def as_json(results: Sequence[TeamValidation]) -> str:
    return json.dumps(
        [
            {"team": r.team, "athletes": r.athletes, "days": r.days, "horizon_days": r.horizon_days,
             "rules": r.table.to_dicts()}
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
    """The verdict in a word or two, for the table (the JSON has the sentence)."""
    if not row["raises"]:
        return "never raised"
    if not row["independent"]:
        return "follows pain"
    if row["beats_chance"]:
        return "yes"
    return "too few raises" if str(row["verdict"]).startswith("too few") else "no"


COLUMNS = ("rule", "severity", "raises", "followed by pain", "random days", "p", "beats chance?", "caught",
           "lead days")  # fmt: skip
RIGHT_ALIGNED = {"raises", "followed by pain", "random days", "p", "caught", "lead days"}


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
    """The team's rows as a coach reads them: the rule, what followed its raises, against chance."""
    out = Table(
        title=f"{result.team}: does each rule warn before pain? ({result.athletes} athletes, "
        f"{result.days:,} athlete-days, pain within {result.horizon_days} days)",
        caption="followed by pain: raises with a pain report (score 4+, or sharp) from the athlete within "
        f"{result.horizon_days} days; random days: as many raises on random days of the same athletes; "
        "p: the share of random draws as good; caught: pain episodes with a raise in the "
        f"{result.horizon_days} days before them. Intervals: 95%. 'follows pain': the rule reads the pain "
        "reports, it cannot predict them.",
    )
    for column in COLUMNS:
        out.add_column(column, justify="right" if column in RIGHT_ALIGNED else "left")
    for row in result.table.iter_rows(named=True):
        out.add_row(
            *cells(row).values(),
            style="bold green" if row["beats_chance"] else ("dim" if not row["independent"] else None),
        )
    return out


def print_tables(results: Sequence[TeamValidation]) -> None:
    console = Console()
    for result in results:
        console.print(table(result))


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
            results.append(validate_team(team_data, horizon_days=horizon_days, draws=draws, seed=seed))
            advance()
    if json_out:
        print(as_json(results))
    else:
        print_tables(results)
    if suggest_to is not None:
        from scoring.tuning import TUNABLE, candidates

        steps = sum(1 + len(candidates(1.0)) * len(TUNABLE) for _ in data)  # a bound: rules off are skipped
        with _steps(progress, "trying thresholds", steps) as advance:
            found = {d.config.team_id: suggest_team(d, horizon_days=horizon_days, advance=advance) for d in data}
        suggest_to.write_text(suggestions_toml(found, horizon_days=horizon_days), encoding="utf-8")
    return results
