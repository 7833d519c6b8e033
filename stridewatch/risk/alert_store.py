"""The alerts and their events in the store: the one owner of the ``alerts`` and ``alert_events`` tables.

The book writes an alert's transitions (`stridewatch.risk.alerts`), the relay marks what the
broker acknowledged and reads what it did not (`stridewatch.risk.relay`), and the dashboard
reads the history and the open alerts, all through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest.store import Store


class AlertStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def open_alerts(self) -> list[tuple[str, str, str, str, str, int]]:
        """Every alert not cleared: (team, athlete, alert id, level, payload, its latest event's seq)."""
        return self._store.query(
            "SELECT a.team, a.athlete, a.alert_id, a.level, a.payload, max(e.seq) FROM alerts a JOIN alert_events e "
            "ON e.alert_id = a.alert_id WHERE a.state <> 'cleared' GROUP BY a.team, a.athlete, a.alert_id, a.level, "
            "a.payload"
        )

    def write(
        self, cur: Any, *, alert_id: str, seq: int, state: str, team: str, athlete: str, level: str, score: int,
        ts: int, body: str,
    ) -> None:  # fmt: skip
        """An alert's transition (in the caller's transaction): the alert as it now stands, and its event,
        unpublished."""
        sql = self._store.sql
        if state == "raised":
            cur.execute(
                sql("INSERT INTO alerts (alert_id, team, athlete, state, level, score, payload, raised_ts, updated_ts) "
                    "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (alert_id) DO NOTHING"),
                (alert_id, team, athlete, state, level, score, body, ts, ts),
            )  # fmt: skip
        else:
            cur.execute(
                sql("UPDATE alerts SET state = ?, level = ?, score = ?, payload = ?, updated_ts = ?, cleared_ts = ? "
                    "WHERE alert_id = ?"),
                (state, level, score, body, ts, ts if state == "cleared" else None, alert_id),
            )  # fmt: skip
        cur.execute(
            sql("INSERT INTO alert_events (alert_id, seq, ts, state, level, payload, published_at) "
                "VALUES (?,?,?,?,?,?,NULL) ON CONFLICT DO NOTHING"),
            (alert_id, seq, ts, state, level, body),
        )  # fmt: skip

    def mark_published(self, cur: Any, events: Sequence[tuple[str, int]], *, now_ms: int) -> None:
        """The events (alert id, seq) the broker acknowledged, in one statement (in the caller's transaction)."""
        cur.execute(
            self._store.sql("UPDATE alert_events SET published_at = ? WHERE (alert_id, seq) IN "
                            f"(VALUES {', '.join(['(?, ?)'] * len(events))})"),
            [now_ms, *(v for event in events for v in event)],
        )  # fmt: skip

    def unpublished(self) -> list[tuple[str, str, str, int, str]]:
        """Events the broker never acknowledged, in event order: (team, athlete, alert id, seq, payload)."""
        return self._store.query(
            "SELECT a.team, a.athlete, e.alert_id, e.seq, e.payload FROM alert_events e "
            "JOIN alerts a ON a.alert_id = e.alert_id WHERE e.published_at IS NULL ORDER BY e.ts, e.seq"
        )

    def history(
        self, *, team: str | None = None, athlete: str | None = None, since: int | None = None,
        until: int | None = None,
    ) -> list[tuple[str, str, str, int, int, str, str, str]]:  # fmt: skip
        """Events (of ``team``, ``athlete``) between ``since`` and ``until`` (epoch ms), by alert and seq:
        (alert id, team, athlete, raised ts, event ts, state, level, payload)."""
        clauses, params = [], []
        for clause, value in (("a.team = ?", team), ("a.athlete = ?", athlete), ("e.ts >= ?", since),
                              ("e.ts <= ?", until)):  # fmt: skip
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._store.query(
            "SELECT a.alert_id, a.team, a.athlete, a.raised_ts, e.ts, e.state, e.level, e.payload FROM alerts a "
            f"JOIN alert_events e ON e.alert_id = a.alert_id{where} ORDER BY a.alert_id, e.seq",
            params,
        )

    def open_of(self, team: str) -> list[tuple[str, str, str, str, int]]:
        """The team's alerts not cleared: (athlete, alert id, state, level, raised ts)."""
        return self._store.query(
            "SELECT athlete, alert_id, state, level, raised_ts FROM alerts WHERE team = ? AND state <> 'cleared'",
            (team,),
        )

    def changes(self) -> list[tuple[str, int, int]]:
        """Per team, what moves when one of its alert events is stored: (team, events, latest event ts)."""
        return self._store.query(
            "SELECT a.team, count(*), max(e.ts) FROM alert_events e JOIN alerts a ON a.alert_id = e.alert_id "
            "GROUP BY a.team"
        )
