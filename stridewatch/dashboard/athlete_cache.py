"""Each athlete's stored history and risk, kept between requests and read again only where
the store changed: what makes a 500-athlete board and a year-long athlete page fast.

A page asks for a team (or one athlete of it) and reads each athlete's version from
``athlete_versions``, which the store's writers bump in the same transaction as a session's
start, end, features or a pain report (one small indexed read, where summing a year of
500 athletes' sessions took 60-190 ms). An athlete whose version moved is read again; an
athlete is scored again when read again or when the team's local day has turned, since a
risk as of a time depends only on the history up to it and on its local day. History
stamped after the time asked about (a device clock ahead) is never cached over: such an
athlete is scored afresh on every request until that time has passed.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import cast

import polars as pl

from ingest.store import Store
from scoring import Assessment, Severity, Thresholds, local_day, score_team
from scoring.level import BAND_FLOOR
from stridewatch.teams import TeamsConfig

# Reading a team in one query beats reading athletes one by one from this many changed.
_WHOLE_TEAM_FROM = 20


@dataclass(frozen=True)
class LastSession:
    start_ts: int
    activity: str
    duration_s: float | None
    distance_m: float | None


@dataclass(frozen=True, kw_only=True)
class AthleteState:
    """One athlete as stored: session features and pain reports (the scoring core's frames),
    every session's start (for the last one), and the risk as of a local day."""

    team: str
    athlete: str
    version: int  # athlete_versions' when read
    features: pl.DataFrame
    pain: pl.DataFrame
    sessions: tuple[LastSession, ...]  # by start
    latest_ts: int  # the latest time in the athlete's history
    assessment: Assessment | None = None  # None: no history up to the time scored (its ``ts``)
    day: dt.date | None = None  # the local day ``assessment`` holds for (None: not scored yet)
    scored_at: int = 0  # the time it was computed as of: history after it was left out

    def scored_for(self, day: dt.date, at: int) -> bool:
        """Whether ``assessment`` is the risk as of ``at`` on local ``day``: same day, and no
        history after ``at`` or left out when it was computed."""
        return self.day == day and self.latest_ts <= min(at, self.scored_at)

    def last_session(self, at: int) -> LastSession | None:
        started = bisect.bisect_right(self.sessions, at, key=lambda s: s.start_ts)
        return self.sessions[started - 1] if started else None


class AthleteCache:
    """Athletes by team, refreshed from the store on each request; safe across request threads."""

    def __init__(self, teams: TeamsConfig) -> None:
        self.teams = teams
        self._states: dict[str, dict[str, AthleteState]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def team(self, store: Store, team: str, *, at: int) -> list[AthleteState]:
        """Every athlete of ``team`` with history up to ``at`` that the scoring core reads
        (session features, pain reports), scored as of ``at``."""
        return [s for s in self._refresh(store, team, None, at) if s.assessment is not None]

    def athlete(self, store: Store, team: str, athlete: str, *, at: int) -> AthleteState | None:
        """One athlete, scored as of ``at`` (low without history to score, as `score_athlete`
        says); None when nothing is stored for them."""
        found = self._refresh(store, team, athlete, at)
        if not found or found[0].assessment is not None:
            return found[0] if found else None
        low = Assessment(team=team, athlete=athlete, ts=at, level=Severity.LOW, score=BAND_FLOOR[Severity.LOW])
        return dataclasses.replace(found[0], assessment=low)

    def _refresh(self, store: Store, team: str, athlete: str | None, at: int) -> list[AthleteState]:
        with self._lock:
            lock = self._locks.setdefault(team, threading.Lock())
        with lock:
            states = self._states.setdefault(team, {})
            stored = store.athlete_versions(team, athlete)
            for gone in [a for a in states if (athlete is None or a == athlete) and a not in stored]:
                del states[gone]
            changed = [a for a, v in stored.items() if a not in states or states[a].version != v]
            for state in _read(store, team, changed, stored, whole_team=athlete is None):
                states[state.athlete] = state
            config = self.teams.team(team)
            today: dt.date = pl.select(local_day(pl.lit(at, dtype=pl.Int64), config.timezone.key)).item()
            wanted = [states[a] for a in stored if a in states]
            stale = [s for s in wanted if not s.scored_for(today, at)]
            for state in _score(stale, at=at, today=today, thresholds=config.thresholds, tz=config.timezone.key):
                states[state.athlete] = state
            return [states[s.athlete] for s in wanted]


def _read(
    store: Store, team: str, athletes: Collection[str], stored: dict[str, int], *, whole_team: bool
) -> Iterable[AthleteState]:
    if not athletes:
        return
    if whole_team and len(athletes) >= _WHOLE_TEAM_FROM:
        frames = (store.session_features(team=team), store.pain(team=team), store.sessions(team=team))
        parts = [{k[0]: v for k, v in frame.partition_by("athlete", as_dict=True).items()} for frame in frames]
        per_athlete = {a: tuple(part.get(a, frame.clear()) for part, frame in zip(parts, frames, strict=True))
                       for a in athletes}  # fmt: skip
    else:
        per_athlete = {
            a: (store.session_features(team=team, athlete=a), store.pain(team=team, athlete=a),
                store.sessions(team=team, athlete=a))
            for a in athletes
        }  # fmt: skip
    for name, (features, pain, sessions) in per_athlete.items():
        latest = pl.concat([features["end_ts"], pain["ts"], sessions["start_ts"], sessions["end_ts"]]).max()
        yield AthleteState(
            team=team,
            athlete=name,
            version=stored[name],
            features=features,
            pain=pain,
            sessions=tuple(
                LastSession(*row)
                for row in sessions.drop_nulls("start_ts")
                .sort("start_ts")
                .select("start_ts", "activity", "duration_s", "distance_m")
                .iter_rows()
            ),
            latest_ts=cast(int, latest or 0),
        )


def _score(
    states: list[AthleteState], *, at: int, today: dt.date, thresholds: Thresholds, tz: str
) -> Iterable[AthleteState]:
    """``states`` scored as of ``at`` in one pass of the scoring core."""
    if not states:
        return
    scored = score_team(
        pl.concat([s.features for s in states]), pl.concat([s.pain for s in states]),
        at=at, thresholds=thresholds, tz=tz,
    )  # fmt: skip
    by_athlete = {row["athlete"]: Assessment.from_row(row) for row in scored.iter_rows(named=True)}
    for state in states:
        yield dataclasses.replace(state, assessment=by_athlete.get(state.athlete), day=today, scored_at=at)
