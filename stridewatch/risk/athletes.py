"""Each athlete's scoring state, in memory while they are active, checkpointed in the store.

The first time the service sees an athlete (or after a restart) it loads their checkpoint:
one row, never the history. Only when there is none, or it was made by other scoring code
or team settings, or an event comes later than the state's reorder window
(`scoring.TooLate`), is the state built from the athlete's stored history, as far as the
event being folded. States that changed are checkpointed with the alerts they produced
(`dirty`), and the least recently used ones beyond ``capacity`` leave memory (their
checkpoint has them).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest import metrics
from scoring import Assessment, AthleteState, History, TooLate
from stridewatch.risk.engine import RiskEngine

log = logging.getLogger("stridewatch.risk.athletes")
AthleteKey = tuple[str, str]


@dataclass
class Athlete:
    """What the service keeps of one athlete between events."""

    state: AthleteState
    latest: int  # the latest event time seen: an athlete's risk only moves forward in time
    assessed: Assessment | None = None  # as of their latest session end or report


class AthleteStates:
    """The service's athletes, loaded on first sight, evicted when idle."""

    def __init__(self, engine: RiskEngine, *, capacity: int = 5_000) -> None:
        self._engine = engine
        self._capacity = capacity
        self._athletes: OrderedDict[AthleteKey, Athlete] = OrderedDict()
        self._dirty: set[AthleteKey] = set()

    def __len__(self) -> int:
        return len(self._athletes)

    def get(self, team: str, athlete: str, *, at: int) -> Athlete:
        """The athlete (loaded if need be); ``at`` is the event time being handled."""
        key = (team, athlete)
        found = self._athletes.get(key)
        if found is None:
            found = self._load(key, at)
            self._athletes[key] = found
            self._evict()
            metrics.STATES_IN_MEMORY.set(len(self._athletes))
        self._athletes.move_to_end(key)
        found.latest = max(found.latest, at)
        return found

    def fold_sessions(self, athlete: Athlete, features: pl.DataFrame, *, ended_by: int | None = None) -> None:
        """Fold ended sessions' features into the athlete's state (only those ended by ``ended_by``, when given)."""
        rows = [row for row in features.iter_rows(named=True)
                if ended_by is None or _ended_at(row) <= ended_by]  # fmt: skip
        self._fold(athlete, lambda state: [state.add_session(row) for row in rows])

    def fold_pain(self, athlete: Athlete, reports: Iterable[Mapping[str, Any]]) -> None:
        """Fold pain entries (``WELLNESS_SCHEMA`` rows) into the athlete's state."""
        rows = list(reports)
        self._fold(athlete, lambda state: state.add_pain(rows))

    def checkpoints(self) -> list[tuple[str, str, bytes]]:
        """The checkpoints of the states changed since the last call."""
        out = [(*key, self._athletes[key].state.checkpoint()) for key in sorted(self._dirty) if key in self._athletes]
        self._dirty.clear()
        return out

    def forget(self, whose: Callable[[str, str], bool]) -> None:
        """Drop the athletes ``whose`` accepts, checkpointed or not: another process scores them now."""
        for key in [k for k in self._athletes if whose(*k)]:
            del self._athletes[key]
            self._dirty.discard(key)
        metrics.STATES_IN_MEMORY.set(len(self._athletes))

    def loaded(self) -> list[AthleteKey]:
        return list(self._athletes)

    def _fold(self, athlete: Athlete, fold: Any) -> None:
        state = athlete.state
        key = (state.team, state.athlete)
        try:
            fold(state)
        except TooLate as late:
            log.info("event past the reorder window: state rebuilt from the history", extra={"why": str(late)})
            athlete.state = self._build(key, athlete.latest, cause="too_late")
        self._dirty.add(key)

    def _load(self, key: AthleteKey, at: int) -> Athlete:
        config = self._engine.teams.team(key[0])
        saved = self._engine.store.athlete_state(*key)
        state = None
        if saved is not None:
            state = AthleteState.restore(saved, thresholds=config.thresholds, tz=config.timezone.key)
        if state is not None:
            metrics.STATES_LOADED.inc()
        else:
            state = self._build(key, at, cause="no_checkpoint" if saved is None else "other_scoring")
            self._dirty.add(key)
        return Athlete(state=state, latest=max(at, state.latest_ts or at))

    def _build(self, key: AthleteKey, at: int, *, cause: str) -> AthleteState:
        """The state of everything stored of the athlete up to ``at``: what follows in the batch
        being handled is folded as it comes."""
        config = self._engine.teams.team(key[0])
        history = self._engine.history(*key)
        upto = History(
            team=history.team,
            athlete=history.athlete,
            sessions=history.sessions.filter(pl.coalesce("end_ts", "last_ts", "start_ts") <= at),
            wellness=history.wellness.filter(pl.col("ts") <= at),
        )
        if upto.sessions.height or upto.wellness.height:  # a new athlete has nothing to build from
            metrics.STATES_BUILT.labels(cause).inc()
        return AthleteState.from_history(upto, thresholds=config.thresholds, tz=config.timezone.key)

    def _evict(self) -> None:
        while len(self._athletes) > self._capacity:
            key = next((k for k in self._athletes if k not in self._dirty), None)
            if key is None:
                return
            del self._athletes[key]  # its checkpoint has it


def _ended_at(row: Mapping[str, Any]) -> int:
    """When a session row ended: its end, else its last step, else its start."""
    return next(row[name] for name in ("end_ts", "last_ts", "start_ts") if row[name] is not None)  # type: ignore[no-any-return]
