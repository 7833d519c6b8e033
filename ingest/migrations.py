"""Versioned schema, one list of statements per version, for SQLite and PostgreSQL.

``{blob}``, ``{real}`` and ``{serial}`` are the only dialect differences; everything else
is SQL both engines read. A version is applied once, in one transaction, in order.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "raw streams: step batches, sessions, wellness, device status, dead letters",
        [
            """CREATE TABLE step_batches (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,
                session_id TEXT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
                n_steps INTEGER NOT NULL, n_impact INTEGER NOT NULL, received_at BIGINT NOT NULL,
                data {blob} NOT NULL,
                PRIMARY KEY (team, athlete, device, seq))""",
            "CREATE INDEX step_batches_by_session ON step_batches (team, athlete, session_id)",
            """CREATE TABLE sessions (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, session_id TEXT NOT NULL,
                activity TEXT NOT NULL DEFAULT 'other', surface TEXT, shoe_id TEXT, placement TEXT,
                start_ts BIGINT, end_ts BIGINT, duration_s {real}, distance_m {real},
                first_step_ts BIGINT, last_step_ts BIGINT,
                features_stale INTEGER NOT NULL DEFAULT 1,
                PRIMARY KEY (team, athlete, device, session_id))""",
            "CREATE INDEX sessions_stale ON sessions (features_stale)",
            """CREATE TABLE wellness (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, ts BIGINT NOT NULL,
                note TEXT, received_at BIGINT NOT NULL,
                PRIMARY KEY (team, athlete, device, ts))""",
            """CREATE TABLE pain (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, ts BIGINT NOT NULL,
                idx INTEGER NOT NULL, site TEXT NOT NULL, side TEXT NOT NULL, score INTEGER NOT NULL,
                kind TEXT NOT NULL,
                PRIMARY KEY (team, athlete, device, ts, idx))""",
            """CREATE TABLE device_status (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, ts BIGINT NOT NULL,
                online INTEGER NOT NULL, battery_pct {real}, firmware TEXT,
                PRIMARY KEY (team, athlete, device))""",
            """CREATE TABLE dead_letters (
                id {serial}, team TEXT, topic TEXT NOT NULL, reason TEXT NOT NULL,
                payload_excerpt TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, received_at BIGINT NOT NULL)""",
        ],
    ),
]
