"""The scoring edge: reads the store, runs the pure scoring core, writes features back.

Features of ended sessions are computed once, from that session's own steps, and stored.
The service (`stridewatch run`) folds them into each athlete's state (`stridewatch.athletes`);
the what-if command (`stridewatch assess`), the dashboard and the tests score a whole
team at once with `scoring.score_team` over the stored features and pain reports.
"""

from __future__ import annotations

import logging

import polars as pl

from ingest.store import Store
from scoring import SESSION_FEATURES_SCHEMA, Assessment, History, score_team, session_features
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.risk")
SessionKey = tuple[str, str, str, str]


class RiskEngine:
    """Scores athletes from what the store holds, with each team's thresholds and time zone."""

    def __init__(self, store: Store, teams: TeamsConfig) -> None:
        self.store = store
        self.teams = teams

    def refresh_features(self, *, team: str | None = None, athlete: str | None = None) -> pl.DataFrame:
        """Compute and store the features of ended sessions that lack them (or whose late steps
        made them stale), each from its own steps; returns them."""
        stale = self.store.stale_sessions(team=team, athlete=athlete)
        by_athlete: dict[tuple[str, str], list[str]] = {}
        for t, a, _device, session_id in stale:
            by_athlete.setdefault((t, a), []).append(session_id)
        computed = []
        for (t, a), session_ids in by_athlete.items():
            steps = self.store.steps(team=t, athlete=a, sessions=session_ids)
            sessions = self.store.sessions(team=t, athlete=a, sessions=session_ids)
            features = session_features(steps, sessions)
            self.store.save_features(features)
            computed.append(features)
        if stale:
            log.info("session features stored", extra={"sessions": len(stale)})
        return pl.concat(computed) if computed else pl.DataFrame(schema=SESSION_FEATURES_SCHEMA)

    def ended(self, team: str, athlete: str, session_ids: list[str]) -> pl.DataFrame:
        """The features of these ended sessions and of any other session of the athlete that had
        gone stale, computed where missing: what a session's end adds to the athlete's state."""
        refreshed = self.refresh_features(team=team, athlete=athlete)
        # As stored, even what was just computed: a row folded now and one folded from the store
        # after a restart must be the same numbers.
        keys = {*refreshed["session_id"], *session_ids}
        return self.store.session_features(team=team, athlete=athlete, sessions=keys)

    def history(self, team: str, athlete: str) -> History:
        """Everything the store holds of the athlete: to build their state from scratch."""
        return History(
            team=team,
            athlete=athlete,
            sessions=self.store.session_features(team=team, athlete=athlete),
            wellness=self.store.pain(team=team, athlete=athlete),
        )

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
