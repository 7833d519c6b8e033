"""`stridewatch report`: one week of a team (or one athlete) as a self-contained HTML file.

The dashboard's board, charts and alert history as of the end of the ISO week, in the
team's time zone, with the CSS inlined and the charts as inline SVG: one file that opens
offline and can be mailed. There is no JavaScript in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ingest.store import Store
from stridewatch.dashboard.athlete_cache import AthleteCache
from stridewatch.dashboard.athlete_data import AthleteData, athlete_data
from stridewatch.dashboard.board import BoardRow, team_board
from stridewatch.dashboard.charts import Chart, athlete_charts
from stridewatch.dashboard.history import AlertEntry, alert_history
from stridewatch.dashboard.rendering import environment, stylesheet
from stridewatch.errors import StridewatchError


class ReportError(StridewatchError, ValueError):
    """The report cannot be made; the message says why."""


@dataclass(frozen=True)
class ReportAthlete:
    row: BoardRow
    data: AthleteData
    charts: list[Chart]
    alerts: list[AlertEntry]
    facts: list[str]


def parse_week(text: str) -> dt.date:
    """``2026-W47`` -> the Monday of that ISO week."""
    try:
        return dt.datetime.strptime(f"{text}-1", "%G-W%V-%u").date()
    except ValueError:
        raise ReportError(f"week {text!r}: write it as an ISO week, e.g. 2026-W47") from None


def last_full_week(today: dt.date) -> dt.date:
    """The Monday of the last ISO week that is over."""
    return today - dt.timedelta(days=today.weekday() + 7)


def weekly_report(
    store: Store, cache: AthleteCache, *, team: str, week: dt.date, athlete: str | None = None, made_ms: int
) -> str:
    """The report's HTML for ``team`` (or only ``athlete``) over the ISO week starting Monday ``week``;
    ``cache`` holds the teams' settings (and, in the dashboard, what it already read)."""
    config = cache.teams.team(team)
    start = dt.datetime.combine(week, dt.time(), config.timezone)
    start_ms = int(start.timestamp() * 1000)
    at = int((start + dt.timedelta(days=7)).timestamp() * 1000) - 1  # the week's last millisecond
    rows = team_board(store, cache, at=at, teams=[team])
    if athlete is not None:
        rows = [row for row in rows if row.athlete == athlete]
    if not rows:
        who = f"athlete {athlete} of team {team}" if athlete else f"team {team}"
        raise ReportError(f"nothing is stored for {who} up to the end of {week:%G-W%V}")
    athletes = []
    for row in rows:
        state = cache.athlete(store, team, row.athlete, at=at)
        assert state is not None  # it is on the board
        data = athlete_data(state.features, state.pain, config, row.athlete, at=at)
        athletes.append(
            ReportAthlete(
                row=row,
                data=data,
                charts=athlete_charts(data, config.thresholds, prefix=f"{row.athlete}-"),
                alerts=alert_history(store, team=team, athlete=row.athlete, since=start_ms, until=at),
                facts=week_facts(data, week),
            )
        )
    template = environment(cache.teams).get_template("report.html")
    return template.render(
        standalone=True,
        css=stylesheet(),
        page="",
        week=f"{week:%G-W%V}",
        subject=athlete or config.name,
        first_day=week,
        last_day=week + dt.timedelta(days=6),
        timezone=config.timezone.key,
        made=dt.datetime.fromtimestamp(made_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M"),
        rows=rows,
        athletes=athletes,
    )


def week_facts(data: AthleteData, week: dt.date) -> list[str]:
    """The week in a few plain sentences, each with its number."""
    sunday = week + dt.timedelta(days=6)
    sessions = data.sessions.filter(pl.col("day").is_between(week, sunday))
    facts = [f"{sessions.height} session{'s' if sessions.height != 1 else ''} this week"
             + (f", {sessions['distance_km'].sum():.1f} km" if sessions["distance_km"].sum() else "")
             + (f", {sessions['n_steps'].sum():,} steps." if sessions.height else ".")]  # fmt: skip
    this_week = data.weekly.filter(pl.col("week") == week)
    if this_week.height:
        load, change = this_week.row(0)[1:3]
        text = f"Training load {load:,.0f}"
        text += f", {100 * (change - 1):+.0f}% on the week before." if change is not None else "."
        facts.append(text)
    end = data.daily.filter(pl.col("day") == sunday)
    if end.height and end["acwr"][0] is not None:
        facts.append(f"Acute:chronic load ratio {end['acwr'][0]:.2f} on Sunday (sweet spot 0.8-1.3, danger above 1.5).")
    pain = data.pain.filter(pl.col("day").is_between(week, sunday))
    if pain.height:
        worst = pain.row(int(pain["score"].arg_max() or 0), named=True)
        facts.append(f"{pain.height} pain report{'s' if pain.height != 1 else ''}; the worst "
                     f"{worst['score']}/10 {worst['kind']} ({worst['site']}, {worst['side']}).")  # fmt: skip
    return facts
