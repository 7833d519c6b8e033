"""The store: one interface, SQLite (embedded default) or PostgreSQL, one code path.

``sqlite:///path/to/file.db`` or ``postgresql://user@host:port/db``. Writes are
idempotent (``ON CONFLICT``): a redelivered message changes nothing, so the consumer can
acknowledge after commit and replay freely after a crash.

Exceptions::

    StoreError                 anything the store raises
    ├── StoreUnavailable       transient: connection lost, database down, disk full;
    │                          nothing was written, retry later
    └── StoreRefused           the data: text, a number or a key the database refuses;
                               nothing was written, retrying the same data fails again
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import numpy as np
import polars as pl

from ingest.errors import IngestError
from ingest.feed import write_feed, write_mark
from ingest.imu_writes import StateCache, write_imu
from ingest.migrations import MIGRATIONS
from ingest.records import FEET, ImuBatchRow, Record, Records, StepBatchRow, unpack_steps

DEFAULT_DB = "sqlite:///stridewatch.db"
B = TypeVar("B", StepBatchRow, ImuBatchRow)


class StoreError(IngestError, RuntimeError):
    """Anything the store raises."""


class StoreRefused(StoreError):
    """The database refused what a record holds (`ingest.intake` finds the record and dead-letters it)."""


class StoreUnavailable(StoreError):
    """Transient: nothing was written; the caller keeps the messages and retries.

    ``cause`` is ``disk_full`` when the database has no room left (SQLite rolls the
    transaction back whole, so the file stays consistent), else ``unavailable``.
    """

    def __init__(self, message: str, *, cause: str = "unavailable") -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class _Dialect:
    name: str
    blob: str
    real: str
    serial: str
    least: str
    greatest: str
    transient: tuple[type[BaseException], ...]
    refused: tuple[type[BaseException], ...]  # caused by the data; the rest is a bug or unknown


# Python refuses to hand the driver a value (a lone surrogate, an integer past 64 bits) in either engine.
_BINDING = (UnicodeError, OverflowError)


def _sqlite_dialect() -> _Dialect:
    return _Dialect(
        "sqlite", "BLOB", "REAL", "INTEGER PRIMARY KEY AUTOINCREMENT", "min", "max", (sqlite3.OperationalError,),
        (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, *_BINDING),
    )  # fmt: skip


def _postgres_dialect() -> _Dialect:
    import psycopg

    # Serialization failures and deadlocks are OperationalError: retried like a lost connection.
    return _Dialect(
        "postgresql", "BYTEA", "DOUBLE PRECISION", "BIGSERIAL PRIMARY KEY", "LEAST", "GREATEST",
        (psycopg.OperationalError, psycopg.errors.AdminShutdown),
        (psycopg.DataError, psycopg.IntegrityError, *_BINDING),
    )  # fmt: skip


SESSION_COLUMNS = {
    "team": pl.String, "athlete": pl.String, "device": pl.String, "session_id": pl.String,
    "activity": pl.String, "surface": pl.String, "shoe_id": pl.String, "placement": pl.String,
    "start_ts": pl.Int64, "end_ts": pl.Int64, "duration_s": pl.Float64, "distance_m": pl.Float64,
    "rpe": pl.Float64,
}  # fmt: skip
STEP_FRAME_COLUMNS = {
    "team": pl.String, "athlete": pl.String, "device": pl.String, "session_id": pl.String, "ts": pl.Int64,
    "foot": pl.String, "impact_g": pl.Float64, "cadence_spm": pl.Float64, "elevation_m": pl.Float64,
    "contact_ms": pl.Float64,
}  # fmt: skip
SESSION_KEYS = ("team", "athlete", "device", "session_id")
_session_key = attrgetter(*SESSION_KEYS)
# scoring.SESSION_FEATURES_SCHEMA; the store keeps its own copy so that ingest needs no
# scoring import, and a test keeps the two equal.
FEATURE_COLUMNS = {
    **SESSION_COLUMNS,
    "n_steps": pl.Int64, "n_impact": pl.Int64, "impact_median": pl.Float64, "impact_weighted_sum": pl.Float64,
    "plain_weighted_steps": pl.Float64, "descent_steps": pl.Int64, "warmup_ratio": pl.Float64,
    "fatigue_cadence_change": pl.Float64, "fatigue_impact_change": pl.Float64, "impact_mean_L": pl.Float64,
    "impact_mean_R": pl.Float64, "first_ts": pl.Int64, "last_ts": pl.Int64, "cadence_median": pl.Float64,
}  # fmt: skip
PAIN_COLUMNS = {
    "team": pl.String, "athlete": pl.String, "ts": pl.Int64, "site": pl.String, "side": pl.String,
    "score": pl.Int64, "kind": pl.String,
}  # fmt: skip


@dataclass(frozen=True)
class Mark:
    """An ingest replica's commit mark (`ingest.feed.write_mark`): every message it received before
    ``received_before`` (epoch ms, the database's clock) is committed with the transaction that writes
    it, or before."""

    replica: str
    received_before: int


@dataclass(frozen=True)
class TeamStats:
    team: str
    messages: int
    steps: int
    sessions: int
    wellness_reports: int
    devices: int
    dead_letters: dict[str, int]
    first_event_ts: int | None
    last_event_ts: int | None


class Unit:
    """One transaction's writes, gathered from whoever takes part in handling a batch, and what to do
    once they have committed: the unit of work (SQLAlchemy's Session, the Unit of Work of
    "Architecture Patterns with Python"). Whoever makes it commits it; the parts only add to it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._writes: list[Callable[[Any], object]] = []
        self._after: list[Callable[[], object]] = []

    def write(self, work: Callable[[Any], object]) -> None:
        """``work(cursor)`` in the transaction, in the order added."""
        self._writes.append(work)

    def after(self, action: Callable[[], object]) -> None:
        """``action()`` once the transaction has committed (publishing what it stored)."""
        self._after.append(action)

    def commit(self) -> None:
        """Run the writes in one transaction (none: no transaction), then the actions."""
        if self._writes:
            self._store.transaction(lambda cur: [work(cur) for work in self._writes])
        for action in self._after:
            action()
        self._writes, self._after = [], []


class Store:
    """A connection to the database; use one per thread."""

    def __init__(self, url: str = DEFAULT_DB, *, synchronous: str = "FULL", feed: bool = False) -> None:
        """``feed``: on PostgreSQL, feed what is written to score workers (`ingest.feed`), which read
        and prune it; where none runs, nothing would."""
        self.url = url
        self._feed = feed
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            self.dialect = _sqlite_dialect()
            self._path = url[len("sqlite:///") :]
            self._synchronous = synchronous
        elif scheme in ("postgresql", "postgres"):
            self.dialect = _postgres_dialect()
        else:
            raise StoreError(f"database URL {url!r}: use sqlite:///path/file.db or postgresql://user@host/db")
        self._conn: Any = None
        self._imu_states = StateCache()
        self._partitions: int | None = None

    # -- connection -------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        try:
            if self.dialect.name == "sqlite":
                if self._path != ":memory:":
                    Path(self._path).parent.mkdir(parents=True, exist_ok=True)
                conn: Any = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                # FULL: an acknowledged message survives power loss, not just a killed process.
                conn.execute(f"PRAGMA synchronous={self._synchronous}")
            else:
                import psycopg

                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        except self.dialect.transient as exc:
            raise StoreUnavailable(f"cannot open the database {self.safe_url}: {exc}") from exc
        self._conn = conn
        return conn

    @property
    def safe_url(self) -> str:
        parts = urlsplit(self.url)
        if parts.password:
            return self.url.replace(f":{parts.password}@", ":***@")
        return self.url

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, statement: str) -> str:
        d = self.dialect
        statement = statement.format(blob=d.blob, real=d.real, serial=d.serial, least=d.least, greatest=d.greatest)
        return statement.replace("?", "%s") if d.name == "postgresql" else statement

    def unit(self) -> Unit:
        """A unit of work on this store (`Unit`)."""
        return Unit(self)

    def transaction(self, work: Any) -> Any:
        """Run ``work(cursor)`` in one transaction; transient failures become `StoreUnavailable`."""
        conn = self._connect()
        try:
            if self.dialect.name == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn.cursor())
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return result
            with conn.transaction(), conn.cursor() as cur:
                return work(cur)
        except self.dialect.transient as exc:
            self.close()  # a broken connection is reopened on the next attempt
            # SQLite: "database or disk is full"; PostgreSQL: "No space left on device".
            full = "is full" in str(exc) or "No space left" in str(exc)
            cause = "disk_full" if full else "unavailable"
            raise StoreUnavailable(f"database {self.safe_url} unavailable: {exc}", cause=cause) from exc
        except self.dialect.refused as exc:
            raise StoreRefused(str(exc)) from exc

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def run(cur: Any) -> list[tuple[Any, ...]]:
            cur.execute(self.sql(statement), params)
            return list(cur.fetchall()) if cur.description is not None else []  # no rows: DELETE, UPDATE

        return self.transaction(run)  # type: ignore[no-any-return]

    # -- schema -----------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply the versions not yet applied; returns the schema version now in force."""

        def run(cur: Any) -> int:
            if self.dialect.name == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(42424242)")  # replicas starting together
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT)")
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            current = int(cur.fetchone()[0])
            for version, _about, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        cur.execute(self.sql(statement))
                    cur.execute(
                        self.sql("INSERT INTO schema_version VALUES (?, ?)"), (version, int(time.time() * 1000))
                    )
                    current = version
            return current

        return self.transaction(run)  # type: ignore[no-any-return]

    # -- writes -----------------------------------------------------------------------
    def write(self, records: Records, *, received_at: int, mark: Mark | None = None) -> Records:
        """Write one batch of validated records in one transaction (idempotent); what was written:
        the new records, the ``duplicates`` already stored, and the dead letters, with those the
        store turned into dead letters (a key repeated with other content). ``records`` is untouched."""

        def run(cur: Any) -> Records:
            written = records.copy()  # a fresh copy per attempt: a rolled-back one may have changed
            self._write(cur, written, received_at)
            self._mark(cur, mark)
            return written

        return self.transaction(run)  # type: ignore[no-any-return]

    def _write(self, cur: Any, r: Records, received_at: int) -> None:
        many = cur.executemany
        repeated = self._repeated_sessions(cur, r) + self._repeated_reports(cur, r)
        repeated += self._repeated_batches(cur, r, r.steps, "step_batches")[1]
        new_imu, repeated_imu = self._repeated_batches(cur, r, r.imu, "imu_batches")
        r.set_duplicates([*repeated, *repeated_imu])
        if new_imu or r.sessions:  # steps detected from imu batches join r.steps
            lock = " FOR UPDATE OF i" if self.dialect.name == "postgresql" else ""
            write_imu(cur, r, new_imu, sql=self.sql, lock=lock, cache=self._imu_states, received_at=received_at)
        if r.steps:
            many(
                self.sql(
                    "INSERT INTO step_batches (team, athlete, device, seq, session_id, first_ts, last_ts, n_steps, "
                    "n_impact, received_at, data, cadence_estimated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT DO NOTHING"
                ),
                [(s.team, s.athlete, s.device, s.seq, s.session_id, s.first_ts, s.last_ts, s.n_steps, s.n_impact,
                  received_at, s.data, int(s.cadence_estimated)) for s in r.steps],
            )  # fmt: skip
            spans: dict[tuple[str, str, str, str], tuple[int, int]] = {}
            for s in r.steps:
                key = (s.team, s.athlete, s.device, s.session_id)
                lo, hi = spans.get(key, (s.first_ts, s.last_ts))
                spans[key] = (min(lo, s.first_ts), max(hi, s.last_ts))
            many(
                self.sql(
                    "INSERT INTO sessions (team, athlete, device, session_id, first_step_ts, last_step_ts) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT (team, athlete, device, session_id) DO UPDATE SET "
                    "first_step_ts = {least}(coalesce(sessions.first_step_ts, excluded.first_step_ts), "
                    "excluded.first_step_ts), last_step_ts = {greatest}(coalesce(sessions.last_step_ts, "
                    "excluded.last_step_ts), excluded.last_step_ts), features_stale = 1"
                ),
                [(*key, lo, hi) for key, (lo, hi) in sorted(spans.items())],
            )
        # In key order, as every writer: two replicas upserting one session's row cannot deadlock on it.
        starts = sorted((s for s in r.sessions if s.event == "start"), key=_session_key)
        ends = sorted((s for s in r.sessions if s.event == "end"), key=_session_key)
        if starts:
            many(
                self.sql(
                    "INSERT INTO sessions (team, athlete, device, session_id, activity, surface, shoe_id, placement, "
                    "start_ts) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (team, athlete, device, session_id) DO UPDATE "
                    "SET activity = excluded.activity, surface = excluded.surface, shoe_id = excluded.shoe_id, "
                    "placement = excluded.placement, start_ts = excluded.start_ts, features_stale = 1"
                ),
                [(s.team, s.athlete, s.device, s.session_id, s.activity, s.surface, s.shoe_id, s.placement, s.ts)
                 for s in starts],
            )  # fmt: skip
        if ends:
            many(
                self.sql(
                    "INSERT INTO sessions (team, athlete, device, session_id, end_ts, duration_s, distance_m, rpe) "
                    "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (team, athlete, device, session_id) DO UPDATE SET "
                    "end_ts = excluded.end_ts, duration_s = excluded.duration_s, "
                    "distance_m = excluded.distance_m, rpe = excluded.rpe, features_stale = 1"
                ),
                [(s.team, s.athlete, s.device, s.session_id, s.ts, s.duration_s, s.distance_m, s.rpe) for s in ends],
            )
        if r.wellness:
            many(
                self.sql(
                    "INSERT INTO wellness (team, athlete, device, ts, note, received_at, digest) VALUES (?,?,?,?,?,?,?) "
                    "ON CONFLICT DO NOTHING"
                ),
                [(w.team, w.athlete, w.device, w.ts, w.note, received_at, w.digest) for w in r.wellness],
            )
            pain = [(w.team, w.athlete, w.device, w.ts, p.idx, p.site, p.side, p.score, p.kind)
                    for w in r.wellness for p in w.pain]  # fmt: skip
            if pain:
                many(
                    self.sql(
                        "INSERT INTO pain (team, athlete, device, ts, idx, site, side, score, kind) "
                        "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
                    ),
                    pain,
                )
        if r.status:
            many(
                self.sql(
                    "INSERT INTO device_status (team, athlete, device, ts, online, battery_pct, firmware) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (team, athlete, device) DO UPDATE SET ts = excluded.ts, "
                    "online = excluded.online, battery_pct = excluded.battery_pct, firmware = excluded.firmware "
                    "WHERE excluded.ts >= device_status.ts"
                ),
                [(s.team, s.athlete, s.device, s.ts, int(s.online), s.battery_pct, s.firmware) for s in r.status],
            )
        if r.dead:
            many(
                self.sql(
                    "INSERT INTO dead_letters (team, topic, reason, payload_excerpt, digest, received_at, payload) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (digest) DO NOTHING"
                ),
                [(d.team, d.topic, d.reason, d.payload_excerpt, d.digest, received_at, d.payload) for d in r.dead],
            )
        if self._feed and self.dialect.name == "postgresql":  # scoring scales out on PostgreSQL only
            write_feed(cur, r, sql=self.sql, partitions=self.partitions(cur), received_at=received_at)
        # Steps alone change nothing a reader shows until the session's features are saved.
        self._bump_versions(cur, [(s.team, s.athlete) for s in r.sessions] + [(w.team, w.athlete) for w in r.wellness])

    def clock_offset_ms(self) -> int:
        """PostgreSQL's clock minus this machine's, in ms (to a round trip): the ingest replicas and the
        score workers, on several machines, compare times in the database's clock."""
        before = time.time()
        ((db_ms,),) = self.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
        return int(db_ms - (before + time.time()) / 2 * 1000)

    def mark(self, mark: Mark) -> None:
        """A replica's commit mark on its own (an idle replica's: nothing received is waiting)."""
        self.transaction(lambda cur: self._mark(cur, mark))

    def _mark(self, cur: Any, mark: Mark | None) -> None:
        if mark is not None and self._feed and self.dialect.name == "postgresql":
            write_mark(cur, sql=self.sql, replica=mark.replica, received_before=mark.received_before)

    def partitions(self, cur: Any) -> int:
        """How many partitions the athletes fall into (``scoring_partitions``): read once."""
        if self._partitions is None:
            cur.execute("SELECT partitions FROM scoring_partitions")
            self._partitions = int(cur.fetchone()[0])
        return self._partitions

    def _bump_versions(self, cur: Any, athletes: Iterable[tuple[str, str]]) -> None:
        """Count a change of each (team, athlete) in ``athlete_versions`` (the dashboard reads an
        athlete again when it moves), last in the transaction and in sorted order: concurrent
        writers hold the rows briefly and never deadlock on them."""
        cur.executemany(
            self.sql(
                "INSERT INTO athlete_versions (team, athlete, version) VALUES (?,?,1) ON CONFLICT (team, athlete) "
                "DO UPDATE SET version = athlete_versions.version + 1"
            ),
            sorted(set(athletes)),
        )

    def _repeated_batches(self, cur: Any, r: Records, rows: Sequence[B], table: str) -> tuple[list[B], list[B]]:
        """The batches new to the store, and those it already has exactly (a redelivery). A seq the
        device already used in the same session with other samples is a device bug: dead-lettered.
        Only the rare keys already stored are read back."""
        if not rows:
            return [], []
        stored = self._by_seq(cur, table, rows)
        new: list[B] = []
        repeated: list[B] = []
        for s in list(rows):
            key = (s.team, s.athlete, s.device, s.session_id, s.seq)
            if key not in stored:
                stored[key] = (s.first_ts, s.data)
                new.append(s)
            elif stored[key] == (s.first_ts, s.data):
                repeated.append(s)
            else:
                r.reject(s, f"seq: {s.seq} was already used by this device in session {s.session_id} for other samples")
        return new, repeated

    def _by_seq(
        self, cur: Any, table: str, rows: Sequence[StepBatchRow | ImuBatchRow]
    ) -> dict[tuple[str, str, str, str, int], tuple[Any, ...]]:
        """(first_ts, data) of the stored batches of ``table`` with the keys of ``rows``."""
        seqs: dict[tuple[str, str, str, str], set[int]] = {}
        for s in rows:
            seqs.setdefault((s.team, s.athlete, s.device, s.session_id), set()).add(s.seq)
        stored: dict[tuple[str, str, str, str, int], tuple[Any, ...]] = {}
        # One round trip per transaction; each session's seqs are one arm of the OR, so both
        # engines walk the primary-key index. Chunked to stay under SQLite's 32,766 parameters.
        groups = [(session, q[i : i + 1000]) for session, wanted in seqs.items()
                  for q in [sorted(wanted)] for i in range(0, len(q), 1000)]  # fmt: skip
        while groups:
            chunk: list[tuple[tuple[str, str, str, str], list[int]]] = []
            params = 0
            while groups and (not chunk or params + len(groups[0][1]) + 4 <= 10_000):
                chunk.append(groups.pop(0))
                params += len(chunk[-1][1]) + 4
            arms = " OR ".join(
                f"(team = ? AND athlete = ? AND device = ? AND session_id = ? AND seq IN ({','.join('?' * len(q))}))"
                for _, q in chunk
            )
            cur.execute(
                self.sql(f"SELECT team, athlete, device, session_id, seq, first_ts, data FROM {table} WHERE {arms}"),
                [v for session, q in chunk for v in (*session, *q)],
            )
            stored.update({tuple(row[:5]): (row[5], bytes(row[6])) for row in cur.fetchall()})
        return stored

    def _stored_rows(
        self, cur: Any, table: str, keys: Sequence[str], columns: str, wanted: Iterable[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """``columns`` of the rows of ``table`` whose ``keys`` are among ``wanted``, by key."""
        found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        unique = sorted(set(wanted))
        arm = "(" + " AND ".join(f"{k} = ?" for k in keys) + ")"
        for i in range(0, len(unique), 1000):
            chunk = unique[i : i + 1000]
            cur.execute(
                self.sql(f"SELECT {', '.join(keys)}, {columns} FROM {table} WHERE {' OR '.join([arm] * len(chunk))}"),
                [v for key in chunk for v in key],
            )
            found.update({tuple(row[: len(keys)]): tuple(row[len(keys) :]) for row in cur.fetchall()})
        return found

    def _repeated_sessions(self, cur: Any, r: Records) -> list[Record]:
        """Session starts and ends the store already has. A device sends one of each per session: a
        repeat with other details is dead-lettered (the first stands, as scoring took it)."""
        if not r.sessions:
            return []
        stored = self._stored_rows(
            cur, "sessions", SESSION_KEYS,
            "activity, surface, shoe_id, placement, start_ts, end_ts, duration_s, distance_m, rpe",
            ((s.team, s.athlete, s.device, s.session_id) for s in r.sessions),
        )  # fmt: skip
        seen: dict[tuple[str, str, str, str, str], tuple[Any, ...]] = {}
        for key, (activity, surface, shoe, placement, start, end, duration, distance, rpe) in stored.items():
            if start is not None:
                seen[(*key, "start")] = (activity, surface, shoe, placement, start)
            if end is not None:
                seen[(*key, "end")] = (end, duration, distance, rpe)
        repeated: list[Record] = []
        for s in list(r.sessions):
            key = (s.team, s.athlete, s.device, s.session_id, s.event)
            details = (
                (s.activity, s.surface, s.shoe_id, s.placement, s.ts)
                if s.event == "start"
                else (s.ts, s.duration_s, s.distance_m, s.rpe)
            )
            if key not in seen:
                seen[key] = details
            elif seen[key] == details:
                repeated.append(s)
            else:
                said, at = ("a start", seen[key][4]) if s.event == "start" else ("an end", seen[key][0])
                r.reject(s, f"event: session {s.session_id} already has {said} with other details (at ts {at}); "
                            "a device sends one per session")  # fmt: skip
        return repeated

    def _repeated_reports(self, cur: Any, r: Records) -> list[Record]:
        """Wellness reports the store already has (same device and time); one with other content is
        dead-lettered. Reports stored before digests were kept count as the same."""
        if not r.wellness:
            return []
        stored = self._stored_rows(
            cur, "wellness", ("team", "athlete", "device", "ts"), "digest",
            ((w.team, w.athlete, w.device, w.ts) for w in r.wellness),
        )  # fmt: skip
        seen = {key: digest for key, (digest,) in stored.items()}
        repeated: list[Record] = []
        for w in list(r.wellness):
            key = (w.team, w.athlete, w.device, w.ts)
            if key not in seen:
                seen[key] = w.digest
            elif seen[key] in (None, w.digest):
                repeated.append(w)
            else:
                r.reject(w, f"ts: a report at {w.ts} is already stored from this device with other content")
        return repeated

    # -- reads ------------------------------------------------------------------------
    def _frame(self, statement: str, params: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
        rows = self.query(statement, params)
        return pl.DataFrame(rows, schema=schema, orient="row")

    @staticmethod
    def _where(
        team: str | None, athlete: str | None, prefix: str = "", sessions: Iterable[str] | None = None
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, value in ((f"{prefix}team", team), (f"{prefix}athlete", athlete)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if sessions is not None:  # on the (team, athlete, session_id) indexes: one session, not the history
            wanted = sorted(set(sessions))
            clauses.append(f"{prefix}session_id IN ({','.join('?' * len(wanted)) or 'NULL'})")
            params += wanted
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def sessions(
        self, *, team: str | None = None, athlete: str | None = None, sessions: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """One row per session; start/end fall back to the first/last step when a device missed them."""
        where, params = self._where(team, athlete, sessions=sessions)
        return self._frame(
            "SELECT team, athlete, device, session_id, activity, surface, shoe_id, placement, "
            "coalesce(start_ts, first_step_ts), coalesce(end_ts, last_step_ts), duration_s, distance_m, rpe "
            f"FROM sessions{where} ORDER BY team, athlete, coalesce(start_ts, first_step_ts)",
            params,
            SESSION_COLUMNS,
        )

    def steps(
        self, *, team: str | None = None, athlete: str | None = None, sessions: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """Raw steps, one row each, ordered by time (batches may have arrived in any order)."""
        where, params = self._where(team, athlete, sessions=sessions)
        rows = self.query(
            f"SELECT team, athlete, device, session_id, n_steps, data, cadence_estimated FROM step_batches{where}",
            params,
        )
        if not rows:
            return pl.DataFrame(schema=STEP_FRAME_COLUMNS)
        # Decode every batch to numpy and build one frame: a frame per batch is far slower.
        batches = [(row[:4], unpack_steps(bytes(data), n, cadence_estimated=bool(e))) for *row, n, data, e in rows]
        return steps_frame(batches).sort("team", "athlete", "session_id", "ts")

    def stale_sessions(self, *, team: str | None = None, athlete: str | None = None) -> list[tuple[str, str, str, str]]:
        """Ended sessions whose features are missing or out of date (late steps, a new end)."""
        where, params = self._where(team, athlete, prefix="")
        clause = " AND ".join(
            c for c in (where.removeprefix(" WHERE "), "features_stale = 1", "end_ts IS NOT NULL") if c
        )
        rows = self.query(f"SELECT team, athlete, device, session_id FROM sessions WHERE {clause}", params)
        return [(t, a, d, s) for t, a, d, s in rows]

    def has_ended(self, key: tuple[str, str, str, str]) -> bool:
        """Whether the session's ``end`` event is stored."""
        rows = self.query(
            "SELECT end_ts FROM sessions WHERE team = ? AND athlete = ? AND device = ? AND session_id = ?", key
        )
        return bool(rows) and rows[0][0] is not None

    def save_features(self, features: pl.DataFrame) -> None:
        """Store `scoring.session_features` rows and mark their sessions fresh, in one transaction."""
        columns = [c for c in FEATURE_COLUMNS if c not in SESSION_COLUMNS]
        quoted = ", ".join(f'"{c}"' for c in (*SESSION_KEYS, *columns))
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
        rows = features.select(*SESSION_KEYS, *columns).rows()
        if not rows:
            return

        def run(cur: Any) -> None:
            cur.executemany(
                self.sql(
                    f"INSERT INTO session_features ({quoted}) VALUES ({', '.join('?' * (len(columns) + 4))}) "
                    f"ON CONFLICT (team, athlete, device, session_id) DO UPDATE SET {updates}"
                ),
                rows,
            )
            cur.executemany(
                self.sql(
                    "UPDATE sessions SET features_stale = 0 WHERE team = ? AND athlete = ? AND device = ? "
                    "AND session_id = ?"
                ),
                [row[:4] for row in rows],
            )
            self._bump_versions(cur, [row[:2] for row in rows])

        self.transaction(run)

    def session_features(
        self, *, team: str | None = None, athlete: str | None = None, sessions: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """Sessions with their stored features (`scoring.SESSION_FEATURES_SCHEMA`); sessions not yet
        featured are left out."""
        where, params = self._where(team, athlete, prefix="s.", sessions=sessions)
        session_cols = [f"s.{c}" for c in SESSION_COLUMNS if c not in ("start_ts", "end_ts")]
        feature_cols = [f'f."{c}"' for c in FEATURE_COLUMNS if c not in SESSION_COLUMNS]
        select = [*session_cols[:8], "coalesce(s.start_ts, s.first_step_ts)", "coalesce(s.end_ts, s.last_step_ts)",
                  *session_cols[8:], *feature_cols]  # fmt: skip
        return self._frame(
            f"SELECT {', '.join(select)} FROM sessions s JOIN session_features f ON s.team = f.team "
            "AND s.athlete = f.athlete AND s.device = f.device AND s.session_id = f.session_id"
            f"{where} ORDER BY s.team, s.athlete, coalesce(s.start_ts, s.first_step_ts)",
            params,
            FEATURE_COLUMNS,
        )

    def session_batches(self, key: tuple[str, str, str, str]) -> list[tuple[int, int, int, bytes, bool]]:
        """One session's stored step batches: (seq, first step time, n_steps, packed data, cadence
        estimated), by seq."""
        rows = self.query(
            "SELECT seq, first_ts, n_steps, data, cadence_estimated FROM step_batches WHERE team = ? AND athlete = ? "
            "AND device = ? AND session_id = ? ORDER BY seq",
            key,
        )
        return [(seq, first, n, bytes(data), bool(estimated)) for seq, first, n, data, estimated in rows]

    def batch_counts(self, keys: Sequence[tuple[str, str, str, str]]) -> dict[tuple[str, str, str, str], int]:
        """How many step batches each session (team, athlete, device, session_id) has stored."""
        arms = " OR ".join(["(team = ? AND athlete = ? AND device = ? AND session_id = ?)"] * len(keys))
        rows = self.query(
            f"SELECT team, athlete, device, session_id, count(*) FROM step_batches WHERE {arms} "
            "GROUP BY team, athlete, device, session_id",
            [v for key in keys for v in key],
        )
        return {(t, a, d, s): int(n) for t, a, d, s, n in rows}

    def athlete_state(self, team: str, athlete: str) -> bytes | None:
        """An athlete's scoring checkpoint (`scoring.AthleteState.checkpoint`), if one was saved."""
        rows = self.query("SELECT state FROM athlete_states WHERE team = ? AND athlete = ?", (team, athlete))
        return bytes(rows[0][0]) if rows else None

    def save_athlete_states(self, unit: Unit, states: Sequence[tuple[str, str, bytes]], *, now_ms: int) -> None:
        """Save checkpoints with ``unit`` (beside the alerts they produced)."""
        if states:
            unit.write(lambda cur: cur.executemany(
                self.sql("INSERT INTO athlete_states (team, athlete, state, saved_at) VALUES (?,?,?,?) ON CONFLICT "
                         "(team, athlete) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at"),
                [(team, athlete, state, now_ms) for team, athlete, state in states],
            ))  # fmt: skip

    def drop_athlete_states(self, athletes: Sequence[tuple[str, str]]) -> None:
        """Forget the checkpoints of ``athletes``: their states are built from their stored history next."""
        self.transaction(lambda cur: cur.executemany(
            self.sql("DELETE FROM athlete_states WHERE team = ? AND athlete = ?"), athletes))  # fmt: skip

    def teams(self) -> list[str]:
        """Every team with a stored session or pain report."""
        return [team for (team,) in self.query("SELECT DISTINCT team FROM athlete_versions ORDER BY team")]

    def athlete_versions(self, team: str, athlete: str | None = None) -> dict[str, int]:
        """Each athlete of ``team`` (or just ``athlete``) with the count of changes a reader shows."""
        clause, params = (" AND athlete = ?", [team, athlete]) if athlete else ("", [team])
        return dict(self.query(f"SELECT athlete, version FROM athlete_versions WHERE team = ?{clause}", params))

    def pain(self, *, team: str | None = None, athlete: str | None = None) -> pl.DataFrame:
        where, params = self._where(team, athlete)
        return self._frame(
            f"SELECT team, athlete, ts, site, side, score, kind FROM pain{where} ORDER BY team, athlete, ts, idx",
            params,
            PAIN_COLUMNS,
        )

    def dead_letters(self, *, team: str | None = None) -> list[tuple[str | None, str, str]]:
        where, params = self._where(team, None)
        rows = self.query(f"SELECT team, topic, reason FROM dead_letters{where} ORDER BY id", params)
        return [(t, topic, reason) for t, topic, reason in rows]

    def stats(self) -> list[TeamStats]:
        """What is stored, per team (teams with only dead letters included)."""
        per_team: dict[str, dict[str, Any]] = {}

        def team(name: str | None) -> dict[str, Any]:
            return per_team.setdefault(name or "(unknown)", {"messages": 0, "steps": 0, "sessions": 0,
                                                             "wellness": 0, "devices": 0, "dead": {},
                                                             "first": None, "last": None})  # fmt: skip

        def span(entry: dict[str, Any], lo: int | None, hi: int | None) -> None:
            if lo is not None:
                entry["first"] = lo if entry["first"] is None else min(entry["first"], lo)
            if hi is not None:
                entry["last"] = hi if entry["last"] is None else max(entry["last"], hi)

        # Steps detected from imu batches are stored under negative seqs: steps, not messages.
        for t, batches, steps, lo, hi in self.query(
            "SELECT team, sum(CASE WHEN seq >= 0 THEN 1 ELSE 0 END), sum(n_steps), min(first_ts), max(last_ts) "
            "FROM step_batches GROUP BY team"
        ):
            entry = team(t)
            entry["messages"] += batches
            entry["steps"] += int(steps)
            span(entry, lo, hi)
        for t, n, lo, hi in self.query(
            "SELECT team, count(*), min(first_ts), max(last_ts) FROM imu_batches GROUP BY team"
        ):
            entry = team(t)
            entry["messages"] += n
            span(entry, lo, hi)
        for t, n, events, lo, hi in self.query(
            "SELECT team, count(*), count(start_ts) + count(end_ts), min(start_ts), max(end_ts) "
            "FROM sessions GROUP BY team"
        ):
            entry = team(t)
            entry["sessions"] += n
            entry["messages"] += events
            span(entry, lo, hi)
        for t, n, lo, hi in self.query("SELECT team, count(*), min(ts), max(ts) FROM wellness GROUP BY team"):
            entry = team(t)
            entry["wellness"] += n
            entry["messages"] += n
            span(entry, lo, hi)
        for t, n in self.query("SELECT team, count(*) FROM device_status GROUP BY team"):
            team(t)["devices"] += n
        for t, reason, n in self.query("SELECT team, reason, count(*) FROM dead_letters GROUP BY team, reason"):
            dead = team(t)["dead"]
            kind = _reason_kind(reason)
            dead[kind] = dead.get(kind, 0) + n
        return [
            TeamStats(name, e["messages"], e["steps"], e["sessions"], e["wellness"], e["devices"], e["dead"],
                      e["first"], e["last"])
            for name, e in sorted(per_team.items())
        ]  # fmt: skip


def steps_frame(batches: Sequence[tuple[Sequence[str], Mapping[str, np.ndarray]]]) -> pl.DataFrame:
    """Step batches, each its session's keys (team, athlete, device, session_id) and its unpacked
    columns (`unpack_steps`), as one frame of ``STEP_FRAME_COLUMNS``, absent values null."""
    if not batches:
        return pl.DataFrame(schema=STEP_FRAME_COLUMNS)
    # The keys once per batch, then repeated by position: building string columns step by step is slow.
    keys = pl.DataFrame([list(key) for key, _ in batches], schema=list(STEP_FRAME_COLUMNS)[:4], orient="row")
    keys = keys[np.repeat(np.arange(len(batches)), [len(cols["ts"]) for _, cols in batches])]
    values = {
        name: np.concatenate([cols[name] for _, cols in batches])
        for name in ("ts", "impact_g", "cadence_spm", "elevation_m", "contact_ms")
    }
    values["foot"] = np.asarray(FEET)[np.concatenate([cols["foot"] for _, cols in batches])]
    frame = keys.hstack(pl.DataFrame(values)).select(
        pl.col(name).cast(dtype) for name, dtype in STEP_FRAME_COLUMNS.items()
    )
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def _reason_kind(reason: str) -> str:
    """Group dead-letter reasons: ``steps[3].impact_g: must be > 0`` -> ``steps[].impact_g: must be > 0``."""
    kind = re.sub(r"\[\d+\]", "[]", reason)
    kind = re.sub(r" \(and \d+ more\)$", "", kind)
    kind = re.sub(r"'[^']*' disagrees with the topic's '[^']*'", "disagrees with the topic", kind)
    kind = re.sub(r"^payload: \d+ bytes is over", "payload: over", kind)
    kind = re.sub(r"\(.*\)$", "", kind).rstrip()
    return re.sub(r"-?\d+ s in the future", "in the future", kind)
