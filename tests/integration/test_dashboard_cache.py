"""The dashboard's athlete cache gives what scoring the store afresh gives, after every change.

Each check compares the cache with `RiskEngine` on the same store and time (never a number
written here): after a new session saved on the service's path, on the next local day, and
with a session stamped after the time asked about. One check writes behind the store's
back (no version bump) and sees the cache keep what it had: the version is what it trusts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from ingest.store import FEATURE_COLUMNS, SESSION_COLUMNS, SESSION_KEYS, Store
from scoring.schemas import DAY_MS
from stridewatch.dashboard.athlete_cache import AthleteCache
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig
from tests.unit.scoring.builders import day_ts, feature, features

pytestmark = pytest.mark.integration
TEAMS = TeamsConfig.default()
SESSION_INSERT = (
    "INSERT INTO sessions (team, athlete, device, session_id, activity, start_ts, end_ts, duration_s, features_stale) "
    "VALUES (?,?,?,?,?,?,?,?,0)"
)


def save(store: Store, rows: list[dict[str, object]]) -> None:
    """Sessions with their features, as the service leaves them once featured."""
    frame = features(rows)
    store.transaction(lambda cur: cur.executemany(store.sql(SESSION_INSERT), frame.select(
        "team", "athlete", "device", "session_id", "activity", "start_ts", "end_ts", "duration_s").rows()))  # fmt: skip
    store.save_features(frame)


def fresh(store: Store, at: int) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    return {a.athlete: (a.level.label, a.score, tuple(r.rule for r in a.reasons))
            for a in RiskEngine(store, TEAMS).assess_all(at=at, team="t")}  # fmt: skip


def cached(cache: AthleteCache, store: Store, at: int) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    return {s.athlete: (s.assessment.level.label, s.assessment.score, tuple(r.rule for r in s.assessment.reasons))
            for s in cache.team(store, "t", at=at) if s.assessment}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path}/cache.db") as store:
        store.migrate()
        save(store, [feature(d, 1000 + 50 * d, athlete=a) for a in ("a", "b") for d in range(28)])
        yield store


def test_the_cache_follows_the_store_through_new_sessions_and_days(store: Store) -> None:
    cache = AthleteCache(TEAMS)
    at = day_ts(27, 23)
    assert cached(cache, store, at) == fresh(store, at)

    save(store, [feature(27, 9000, athlete="a", hour=18.0)])  # a spike: the risk moves
    assert fresh(store, at)["a"] != cached(AthleteCache(TEAMS), store, day_ts(27, 12))["a"]
    assert cached(cache, store, at) == fresh(store, at)

    tomorrow = at + DAY_MS  # a rest day: the loads decay, nothing stored changed
    assert cached(cache, store, tomorrow) == fresh(store, tomorrow)


def test_history_after_the_time_asked_is_left_out_until_then(store: Store) -> None:
    cache = AthleteCache(TEAMS)
    at = day_ts(27, 12)
    save(store, [feature(27, 9000, athlete="b", hour=20.0)])  # ends after ``at``: a clock ahead
    assert cached(cache, store, at) == fresh(store, at)
    later = day_ts(27, 23)
    assert cached(cache, store, later) == fresh(store, later) != fresh(store, at)


def test_the_cache_trusts_the_version_the_writers_bump(store: Store) -> None:
    cache = AthleteCache(TEAMS)
    at = day_ts(27, 23)
    before = cached(cache, store, at)
    spike = features([feature(27, 9000, athlete="a", hour=18.0)])
    store.transaction(lambda cur: cur.executemany(store.sql(SESSION_INSERT), spike.select(
        "team", "athlete", "device", "session_id", "activity", "start_ts", "end_ts", "duration_s").rows()))  # fmt: skip
    columns = [*SESSION_KEYS, *(c for c in FEATURE_COLUMNS if c not in SESSION_COLUMNS)]
    quoted = ", ".join('"' + c + '"' for c in columns)
    store.transaction(lambda cur: cur.executemany(
        store.sql(f"INSERT INTO session_features ({quoted}) VALUES ({', '.join('?' * len(columns))})"),
        spike.select(columns).rows()))  # fmt: skip
    assert fresh(store, at) != before
    assert cached(cache, store, at) == before  # written behind the store's back: not seen
    store.transaction(lambda cur: cur.execute(
        "UPDATE athlete_versions SET version = version + 1 WHERE team = 't' AND athlete = 'a'"))  # fmt: skip
    assert cached(cache, store, at) == fresh(store, at)


def test_one_athlete_is_read_alone_and_unknown_ones_are_none(store: Store) -> None:
    cache = AthleteCache(TEAMS)
    at = day_ts(27, 23)
    state = cache.athlete(store, "t", "a", at=at)
    assert state is not None and state.features.height == 28
    assert state.features.equals(store.session_features(team="t", athlete="a"))
    assert state.pain.height == 0 and state.assessment is not None and state.assessment.ts == at
    assert cache.athlete(store, "t", "nobody", at=at) is None
    assert pl.concat([s.features for s in cache.team(store, "t", at=at)]).height == 56
