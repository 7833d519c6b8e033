"""The scoring edge: reads the store, runs the pure scoring core, writes features back.

Features of ended sessions are computed once, from that session's own steps, and stored.
The service (`stridewatch run`) folds them into each athlete's state (`stridewatch.risk.athletes`);
the what-if command (`stridewatch assess`), the dashboard and the tests score a whole
team at once with `scoring.score_team` over the stored features and pain reports.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from ingest.records import STEP_COLUMNS, SessionRow, unpack_steps
from ingest.store import Store
from scoring import SESSION_FEATURES_SCHEMA, Assessment, History, score_team
from scoring.features import step_features
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.risk.engine")
SessionKey = tuple[str, str, str, str]
AthleteKey = tuple[str, str]


def time_ordered(batches: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """A session's batches of step columns as one set of columns in time order (batches may
    arrive in any order; a stable sort keeps a device's order between equal times)."""
    if not batches:
        return {name: np.empty(0, dtype=dtype) for name, dtype in STEP_COLUMNS}
    columns = {name: np.concatenate([b[name] for b in batches]) for name, _ in STEP_COLUMNS}
    if (np.diff(columns["ts"]) >= 0).all():  # as they came, mostly: no sort to pay for
        return columns
    order = np.argsort(columns["ts"], kind="stable")
    return {name: values[order] for name, values in columns.items()}


class RiskEngine:
    """Scores athletes from what the store holds, with each team's thresholds and time zone."""

    def __init__(self, store: Store, teams: TeamsConfig) -> None:
        self.store = store
        self.teams = teams

    def refresh_features(
        self,
        *,
        team: str | None = None,
        athlete: str | None = None,
        athletes: Collection[AthleteKey] | None = None,
        in_memory: Mapping[SessionKey, Mapping[str, np.ndarray]] | None = None,
    ) -> pl.DataFrame:
        """Compute and store the features of ended sessions that lack them (or whose late steps
        made them stale), each from its own steps; returns them. ``athletes``: only theirs.
        ``in_memory``: the steps (``unpack_steps`` columns, in time order) of sessions the caller
        holds whole, not read back."""
        held = in_memory or {}
        stale = [key for key in self.store.stale_sessions(team=team, athlete=athlete)
                 if athletes is None or key[:2] in athletes]  # fmt: skip
        if not stale:
            return pl.DataFrame(schema=SESSION_FEATURES_SCHEMA)
        lifecycle: dict[SessionKey, dict[str, Any]] = {}
        for t, a in dict.fromkeys(key[:2] for key in stale):
            ids = [key[3] for key in stale if key[:2] == (t, a)]
            for row in self.store.sessions(team=t, athlete=a, sessions=ids).iter_rows(named=True):
                lifecycle[(t, a, row["device"], row["session_id"])] = row
        rows = [
            lifecycle[key] | step_features(held[key] if key in held else self._steps_of(key))
            for key in stale
            if key in lifecycle
        ]
        features = pl.DataFrame(rows, schema=SESSION_FEATURES_SCHEMA)
        self.store.save_features(features)
        log.info("session features stored", extra={"sessions": features.height})
        return features

    def _steps_of(self, key: SessionKey) -> dict[str, np.ndarray]:
        """A session's stored steps in time order, as ``unpack_steps`` columns."""
        return time_ordered(
            [
                unpack_steps(data, n, cadence_estimated=estimated)
                for _seq, _first, n, data, estimated in self.store.session_batches(key)
            ]
        )

    def ended(
        self, sessions: Iterable[SessionRow], in_memory: Mapping[SessionKey, Mapping[str, np.ndarray]] | None = None
    ) -> dict[AthleteKey, pl.DataFrame]:
        """Per athlete with a session end among ``sessions``: the features to fold, as stored: those
        sessions', and any other of theirs whose late steps made it stale. One pass for the
        batch: its steps are all stored already."""
        ends: dict[AthleteKey, set[str]] = {}
        for s in sessions:
            if s.event == "end":
                ends.setdefault((s.team, s.athlete), set()).add(s.session_id)
        if not ends:
            return {}
        refreshed = self.refresh_features(athletes=ends, in_memory=in_memory)
        for t, a, session_id in refreshed.select("team", "athlete", "session_id").iter_rows():
            ends[(t, a)].add(session_id)
        # As stored, even what was just computed: a row folded now and one folded from the store
        # after a restart must be the same numbers.
        return {
            key: self.store.session_features(team=key[0], athlete=key[1], sessions=ids) for key, ids in ends.items()
        }

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
