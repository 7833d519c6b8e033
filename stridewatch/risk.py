"""The scoring edge: reads the store, runs the pure scoring core, writes features back.

One code path for the service (`stridewatch run`), the what-if command
(`stridewatch assess`) and the tests: features of ended sessions are computed once and
stored; an assessment is `scoring.score_team` over the stored features and pain reports.
"""

from __future__ import annotations

import logging

import polars as pl

from ingest.store import Store
from scoring import Assessment, History, LiveSession, score_athlete, score_team, session_features
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.risk")
SessionKey = tuple[str, str, str, str]


class RiskEngine:
    """Scores athletes from what the store holds, with each team's thresholds and time zone."""

    def __init__(self, store: Store, teams: TeamsConfig) -> None:
        self.store = store
        self.teams = teams

    def refresh_features(self, *, team: str | None = None, athlete: str | None = None) -> int:
        """Compute and store the features of ended sessions that lack them; returns how many."""
        stale = self.store.stale_sessions(team=team, athlete=athlete)
        by_athlete: dict[tuple[str, str], list[str]] = {}
        for t, a, _device, session_id in stale:
            by_athlete.setdefault((t, a), []).append(session_id)
        for (t, a), session_ids in by_athlete.items():
            steps = self.store.steps(team=t, athlete=a, sessions=session_ids)
            sessions = self.store.sessions(team=t, athlete=a).filter(pl.col("session_id").is_in(session_ids))
            self.store.save_features(session_features(steps, sessions))
        if stale:
            log.info("session features stored", extra={"sessions": len(stale)})
        return len(stale)

    def history(self, team: str, athlete: str) -> History:
        return History(
            team=team,
            athlete=athlete,
            sessions=self.store.session_features(team=team, athlete=athlete),
            wellness=self.store.pain(team=team, athlete=athlete),
        )

    def assess(self, team: str, athlete: str, *, at: int) -> Assessment:
        config = self.teams.team(team)
        return score_athlete(self.history(team, athlete), at=at, thresholds=config.thresholds, tz=config.timezone.key)

    def assess_all(self, *, at: int, team: str | None = None, athlete: str | None = None) -> list[Assessment]:
        """Every athlete (of ``team``) as of ``at``: one vectorised pass per team."""
        sessions = self.store.session_features(team=team, athlete=athlete)
        pain = self.store.pain(team=team, athlete=athlete)
        out: list[Assessment] = []
        for team_id in sorted(set(sessions["team"].unique()) | set(pain["team"].unique())):
            config = self.teams.team(team_id)
            scored = score_team(
                sessions.filter(pl.col("team") == team_id),
                pain.filter(pl.col("team") == team_id),
                at=at,
                thresholds=config.thresholds,
                tz=config.timezone.key,
            )
            out += [Assessment.from_row(row) for row in scored.iter_rows(named=True)]
        return out

    def live_session(self, key: SessionKey, *, start_ts: int) -> LiveSession | None:
        """A live evaluator for a session that has begun streaming, judged against the stored history;
        None when the session has ended already (its steps are a replay)."""
        team, athlete, device, session_id = key
        if self.store.has_ended(key):
            return None
        config = self.teams.team(team)
        known = self.store.sessions(team=team, athlete=athlete).filter(pl.col("session_id") == session_id)
        session = {"team": team, "athlete": athlete, "device": device, "session_id": session_id, "start_ts": start_ts}
        if known.height:
            row = known.row(0, named=True)
            session |= {k: row[k] for k in ("activity", "surface", "shoe_id", "placement") if row[k] is not None}
            session["start_ts"] = row["start_ts"] or start_ts
        return LiveSession(
            history=self.store.session_features(team=team, athlete=athlete),
            session=session,
            thresholds=config.thresholds,
            tz=config.timezone.key,
        )
