"""The team board: every athlete by risk (level, then score), why, their open alert and last session.

The risk is the scoring core's as of the board's time (`athlete_cache`, ``score_team``): the
same numbers as ``stridewatch assess``. The open alert is the alert lifecycle's
(``stridewatch run``), with the latest coach's acknowledgement of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.store import Store
from scoring import Assessment, Reason
from stridewatch.dashboard.acks import Acknowledgement, acks_by_alert
from stridewatch.dashboard.athlete_cache import AthleteCache, LastSession
from stridewatch.notify.texts import MAX_REASONS
from stridewatch.risk.alert_store import AlertStore

__all__ = ["BoardRow", "LastSession", "OpenAlert", "risk_order", "stored_teams", "team_board"]


@dataclass(frozen=True)
class OpenAlert:
    alert_id: str
    state: str
    level: str
    raised_ts: int
    ack: Acknowledgement | None


@dataclass(frozen=True)
class BoardRow:
    team: str
    athlete: str
    level: str
    score: int
    reasons: tuple[Reason, ...]  # the top ones, worst first
    more_reasons: int
    last_session: LastSession | None
    alert: OpenAlert | None


def risk_order(assessment: Assessment) -> tuple[int, int, str, str]:
    """Highest level first, then highest score; ties by team and athlete."""
    return (-int(assessment.level), -assessment.score, assessment.team, assessment.athlete)


def stored_teams(store: Store) -> list[str]:
    """Every team with a stored session or pain report."""
    return store.teams()


def team_board(store: Store, cache: AthleteCache, *, at: int, teams: Sequence[str]) -> list[BoardRow]:
    """Every athlete of ``teams`` as of ``at`` (epoch ms), most at risk first."""
    rows = []
    for team in teams:
        alerts = _open_alerts(store, team)
        for state in cache.team(store, team, at=at):
            assert state.assessment is not None
            rows.append((state.assessment, state.last_session(at), alerts.get(state.athlete)))
    return [
        BoardRow(
            team=a.team,
            athlete=a.athlete,
            level=a.level.label,
            score=a.score,
            reasons=a.reasons[:MAX_REASONS],
            more_reasons=max(0, len(a.reasons) - MAX_REASONS),
            last_session=last,
            alert=alert,
        )
        for a, last, alert in sorted(rows, key=lambda row: risk_order(row[0]))
    ]


def _open_alerts(store: Store, team: str) -> dict[str, OpenAlert]:
    rows = AlertStore(store).open_of(team)
    acks = acks_by_alert(store, team=team)
    return {
        athlete: OpenAlert(alert_id, state, level, raised, acks[alert_id][-1] if alert_id in acks else None)
        for athlete, alert_id, state, level, raised in rows
    }
