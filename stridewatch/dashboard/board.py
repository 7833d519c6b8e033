"""The team board: every athlete by risk (level, then score), why, their open alert and last session.

The risk is ``RiskEngine.assess_all`` as of the board's time: the same numbers as
``stridewatch assess``. The open alert is the alert lifecycle's (``stridewatch run``), with
the latest coach's acknowledgement of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.store import Store
from scoring import Assessment, Reason
from stridewatch.dashboard.acks import Acknowledgement, acks_by_alert
from stridewatch.notify_text import MAX_REASONS
from stridewatch.risk import RiskEngine
from stridewatch.teams import TeamsConfig


@dataclass(frozen=True)
class OpenAlert:
    alert_id: str
    state: str
    level: str
    raised_ts: int
    ack: Acknowledgement | None


@dataclass(frozen=True)
class LastSession:
    start_ts: int
    activity: str
    duration_s: float | None
    distance_m: float | None


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


def team_board(store: Store, teams: TeamsConfig, *, at: int, team: str | None = None) -> list[BoardRow]:
    """Every athlete (of ``team``) as of ``at`` (epoch ms), most at risk first."""
    engine = RiskEngine(store, teams)
    engine.refresh_features(team=team)
    assessments = sorted(engine.assess_all(at=at, team=team), key=risk_order)
    alerts = _open_alerts(store, team)
    sessions = _last_sessions(store, team, at)
    return [
        BoardRow(
            team=a.team,
            athlete=a.athlete,
            level=a.level.label,
            score=a.score,
            reasons=a.reasons[:MAX_REASONS],
            more_reasons=max(0, len(a.reasons) - MAX_REASONS),
            last_session=sessions.get((a.team, a.athlete)),
            alert=alerts.get((a.team, a.athlete)),
        )
        for a in assessments
    ]


def _open_alerts(store: Store, team: str | None) -> dict[tuple[str, str], OpenAlert]:
    where, params = (" AND team = ?", [team]) if team else ("", [])
    rows = store.query(
        f"SELECT team, athlete, alert_id, state, level, raised_ts FROM alerts WHERE state <> 'cleared'{where}",
        params,
    )
    acks = acks_by_alert(store, team=team)
    return {
        (t, a): OpenAlert(alert_id, state, level, raised, acks[alert_id][-1] if alert_id in acks else None)
        for t, a, alert_id, state, level, raised in rows
    }


def _last_sessions(store: Store, team: str | None, at: int) -> dict[tuple[str, str], LastSession]:
    frame = store.sessions(team=team)
    out: dict[tuple[str, str], LastSession] = {}
    for row in frame.iter_rows(named=True):  # ordered by team, athlete and start: the last one wins
        if row["start_ts"] is not None and row["start_ts"] <= at:
            out[(row["team"], row["athlete"])] = LastSession(
                row["start_ts"], row["activity"], row["duration_s"], row["distance_m"]
            )
    return out
