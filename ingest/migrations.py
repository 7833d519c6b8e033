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
    (
        2,
        "scoring and alerts: per-session features, the alert lifecycle, the notification outbox",
        [
            # scoring.SESSION_FEATURES_SCHEMA beyond the session columns (a test keeps them equal)
            """CREATE TABLE session_features (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, session_id TEXT NOT NULL,
                n_steps BIGINT, n_impact BIGINT, impact_median {real}, impact_weighted_sum {real},
                plain_weighted_steps {real}, descent_steps BIGINT, warmup_ratio {real},
                fatigue_cadence_change {real}, fatigue_impact_change {real}, "impact_mean_L" {real},
                "impact_mean_R" {real}, first_ts BIGINT, last_ts BIGINT,
                PRIMARY KEY (team, athlete, device, session_id))""",
            """CREATE TABLE alerts (
                alert_id TEXT PRIMARY KEY, team TEXT NOT NULL, athlete TEXT NOT NULL,
                state TEXT NOT NULL, level TEXT NOT NULL, score INTEGER NOT NULL, payload TEXT NOT NULL,
                raised_ts BIGINT NOT NULL, updated_ts BIGINT NOT NULL, cleared_ts BIGINT)""",
            "CREATE INDEX alerts_by_athlete ON alerts (team, athlete, raised_ts)",
            """CREATE TABLE alert_events (
                alert_id TEXT NOT NULL, seq INTEGER NOT NULL, ts BIGINT NOT NULL, state TEXT NOT NULL,
                level TEXT NOT NULL, payload TEXT NOT NULL,
                PRIMARY KEY (alert_id, seq))""",
            """CREATE TABLE notifications (
                id {serial}, dedupe_key TEXT NOT NULL UNIQUE, team TEXT NOT NULL, athlete TEXT NOT NULL,
                alert_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, title TEXT NOT NULL,
                body TEXT NOT NULL, created_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL, delivered_at BIGINT, last_error TEXT)""",
            "CREATE INDEX notifications_due ON notifications (delivered_at, next_attempt_at)",
        ],
    ),
    (
        3,
        "coaches' acknowledgements of alerts (the dashboard)",
        [
            """CREATE TABLE acknowledgements (
                alert_id TEXT NOT NULL, team TEXT NOT NULL, athlete TEXT NOT NULL, ts BIGINT NOT NULL,
                coach TEXT NOT NULL, note TEXT,
                PRIMARY KEY (alert_id, ts, coach))""",
            "CREATE INDEX acknowledgements_by_athlete ON acknowledgements (team, athlete, ts)",
        ],
    ),
    (
        4,
        "step batches whose cadence was estimated (from GPS speed at import), not measured",
        ["ALTER TABLE step_batches ADD COLUMN cadence_estimated INTEGER NOT NULL DEFAULT 0"],
    ),
    (
        5,
        "each session's median cadence, so the dashboard draws from features, not raw steps",
        # Sessions featured before this version keep NULL (their chart point is left out):
        # re-featuring every stored session would rescan all raw steps on the first page view.
        ["ALTER TABLE session_features ADD COLUMN cadence_median {real}"],
    ),
    (
        6,
        "a change counter per athlete, bumped with each write a reader shows, so a cache knows what to read again",
        [
            """CREATE TABLE athlete_versions (
                team TEXT NOT NULL, athlete TEXT NOT NULL, version BIGINT NOT NULL,
                PRIMARY KEY (team, athlete))""",
            "INSERT INTO athlete_versions (team, athlete, version) "
            "SELECT team, athlete, 1 FROM sessions UNION SELECT team, athlete, 1 FROM pain",
        ],
    ),
    (
        7,
        "each athlete's scoring state, checkpointed with the alerts it produced (scoring.AthleteState)",
        [
            """CREATE TABLE athlete_states (
                team TEXT NOT NULL, athlete TEXT NOT NULL, state {blob} NOT NULL, saved_at BIGINT NOT NULL,
                PRIMARY KEY (team, athlete))""",
        ],
    ),
    (
        8,
        "raw accelerometer batches (the imu stream) and each session stream's detection state",
        [
            # samples as they came (ingest.imu.samples.pack); detected = 0 while held for a predecessor
            """CREATE TABLE imu_batches (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,
                session_id TEXT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
                n_samples INTEGER NOT NULL, rate_hz {real} NOT NULL, unit TEXT NOT NULL, scale {real},
                placement TEXT NOT NULL, side TEXT, data {blob} NOT NULL, offsets {blob},
                detected INTEGER NOT NULL, received_at BIGINT NOT NULL,
                PRIMARY KEY (team, athlete, device, seq))""",
            "CREATE INDEX imu_batches_by_session ON imu_batches (team, athlete, device, session_id, detected)",
            # ingest.imu.stream.StreamState, encoded; empty until the stream's first batch is admitted
            """CREATE TABLE imu_streams (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, session_id TEXT NOT NULL,
                state {blob} NOT NULL, held INTEGER NOT NULL, updated_at BIGINT NOT NULL,
                PRIMARY KEY (team, athlete, device, session_id))""",
        ],
    ),
    (
        9,
        "scoring scaled out: the commit-ordered feed of stored records, its partitions' cursors, "
        "the score workers, and which alert events the broker has acknowledged (stridewatch.services.score_worker)",
        [
            # One row per stored step batch, session event and wellness report, written by ingest on
            # PostgreSQL in the record's own transaction. xid is that transaction's pg_current_xact_id():
            # a worker reads below pg_snapshot_xmin, so a transaction that commits late is never skipped.
            """CREATE TABLE feed (
                id {serial}, part INTEGER NOT NULL, xid BIGINT NOT NULL, kind TEXT NOT NULL,
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, session_id TEXT NOT NULL,
                seq BIGINT NOT NULL, ts BIGINT NOT NULL, record TEXT NOT NULL, received_at BIGINT NOT NULL)""",
            # A redelivered message is stored once, so it is fed once.
            "CREATE UNIQUE INDEX feed_by_record ON feed (team, athlete, device, kind, session_id, seq)",
            "CREATE INDEX feed_by_part ON feed (part, xid, id)",
            # The processed log: a record folded twice would break the key and roll its batch back.
            """CREATE TABLE folded (
                id BIGINT PRIMARY KEY, part INTEGER NOT NULL, worker TEXT NOT NULL, folded_at BIGINT NOT NULL)""",
            # Every feed row of the partition up to (xid, id) is folded.
            """CREATE TABLE feed_cursors (
                part INTEGER PRIMARY KEY, xid BIGINT NOT NULL, id BIGINT NOT NULL, worker TEXT,
                updated_at BIGINT NOT NULL)""",
            """CREATE TABLE score_workers (
                worker TEXT PRIMARY KEY, backend_pid INTEGER NOT NULL, heartbeat_at BIGINT NOT NULL,
                parts TEXT NOT NULL, started_at BIGINT NOT NULL)""",
            "CREATE TABLE scoring_partitions (partitions INTEGER NOT NULL)",
            "INSERT INTO scoring_partitions VALUES (64)",
            # NULL until the broker acknowledged the event's publication (the relay); those before are done.
            "ALTER TABLE alert_events ADD COLUMN published_at BIGINT DEFAULT 0",
            "CREATE INDEX alert_events_unpublished ON alert_events (ts, seq) WHERE published_at IS NULL",
        ],
    ),
    (
        10,
        "a device's counter may restart: a batch is (device, session_id, seq); a dead letter keeps the raw "
        "payload; a wellness report keeps a digest of its content (a repeat that differs is refused)",
        [
            # SQLite cannot change a primary key in place: both engines copy the table.
            """CREATE TABLE step_batches_v10 (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,
                session_id TEXT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
                n_steps INTEGER NOT NULL, n_impact INTEGER NOT NULL, received_at BIGINT NOT NULL,
                data {blob} NOT NULL, cadence_estimated INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (team, athlete, device, session_id, seq))""",
            "INSERT INTO step_batches_v10 SELECT team, athlete, device, seq, session_id, first_ts, last_ts, n_steps, "
            "n_impact, received_at, data, cadence_estimated FROM step_batches",
            "DROP TABLE step_batches",
            "ALTER TABLE step_batches_v10 RENAME TO step_batches",
            "CREATE INDEX step_batches_by_session ON step_batches (team, athlete, session_id)",
            """CREATE TABLE imu_batches_v10 (
                team TEXT NOT NULL, athlete TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,
                session_id TEXT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
                n_samples INTEGER NOT NULL, rate_hz {real} NOT NULL, unit TEXT NOT NULL, scale {real},
                placement TEXT NOT NULL, side TEXT, data {blob} NOT NULL, offsets {blob},
                detected INTEGER NOT NULL, received_at BIGINT NOT NULL,
                PRIMARY KEY (team, athlete, device, session_id, seq))""",
            "INSERT INTO imu_batches_v10 SELECT team, athlete, device, seq, session_id, first_ts, last_ts, n_samples, "
            "rate_hz, unit, scale, placement, side, data, offsets, detected, received_at FROM imu_batches",
            "DROP TABLE imu_batches",
            "ALTER TABLE imu_batches_v10 RENAME TO imu_batches",
            "CREATE INDEX imu_batches_by_session ON imu_batches (team, athlete, device, session_id, detected)",
            # The bytes as they came (at most the contract's 256 KiB), to read or replay once fixed.
            "ALTER TABLE dead_letters ADD COLUMN payload {blob}",
            # NULL for reports stored before this version: a repeat of one is taken as the same.
            "ALTER TABLE wellness ADD COLUMN digest TEXT",
        ],
    ),
    (
        11,
        "each ingest replica's commit marks, so score workers fold a record as soon as nothing stored before it "
        "can still be on its way (stridewatch.services.reorder)",
        [
            # In the replica's batch transaction: every message it received before received_before (the
            # database's clock) is committed with it or earlier. xid: that transaction's, as in the feed;
            # marked_at: when it was written (a replica silent for long is gone).
            """CREATE TABLE feed_marks (
                replica TEXT NOT NULL, xid BIGINT NOT NULL, received_before BIGINT NOT NULL,
                marked_at BIGINT NOT NULL, PRIMARY KEY (replica, xid))""",
        ],
    ),
    (
        12,
        "a session's end may carry the athlete's rating of it (rpe, CR-10): its session-RPE load is rpe x minutes",
        ["ALTER TABLE sessions ADD COLUMN rpe {real}"],
    ),
]
