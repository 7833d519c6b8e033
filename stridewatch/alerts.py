"""The alert lifecycle: raised -> updated -> cleared, stored, published retained, notified.

An athlete has at most one open alert. It is raised when their level leaves "low",
updated when the level, the set of reasons or a reason's severity changes (a value
moving while the same rules stay at the same severity is not news), and cleared on the
way back to low. Every transition is
stored as an event with its payload; the coach is notified on raise, on escalation (the
level went up) and on clear, through the outbox, in the same transaction. Everything is
computed from event time, so replaying history gives the alerts that living it gave.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ingest.payloads import Alert
from ingest.store import Store
from ingest.topics import alert_topic
from scoring import Assessment, Severity, alert_state
from scoring.level import escalated
from stridewatch.outbox import Outbox
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.alerts")
Publish = Callable[[str, bytes], None]


@dataclass(frozen=True)
class OpenAlert:
    alert_id: str
    level: Severity
    rules: frozenset[str]
    seq: int


class AlertBook:
    """Current alert per athlete, restored from the store at start."""

    def __init__(self, store: Store, teams: TeamsConfig, publish: Publish) -> None:
        self.store = store
        self.teams = teams
        self._publish = publish
        self._outbox = Outbox(store, teams=teams)
        self._open: dict[tuple[str, str], OpenAlert] = {}
        rows = store.query(
            "SELECT a.team, a.athlete, a.alert_id, a.level, a.payload, max(e.seq) FROM alerts a JOIN alert_events e "
            "ON e.alert_id = a.alert_id WHERE a.state <> 'cleared' GROUP BY a.team, a.athlete, a.alert_id, a.level, "
            "a.payload"
        )
        for team, athlete, alert_id, level, payload, seq in rows:
            rules = _rule_severities(json.loads(payload)["reasons"])
            self._open[(team, athlete)] = OpenAlert(alert_id, Severity[level.upper()], rules, seq)

    def current(self, team: str, athlete: str) -> OpenAlert | None:
        return self._open.get((team, athlete))

    def open_athletes(self) -> list[tuple[str, str]]:
        """Every (team, athlete) with an alert not cleared."""
        return list(self._open)

    def update(self, assessment: Assessment) -> dict[str, Any] | None:
        """Apply an athlete's latest assessment; returns the alert payload published, if any."""
        key = (assessment.team, assessment.athlete)
        previous = self._open.get(key)
        before = (previous.level, previous.rules) if previous else None
        rules = _rule_severities(r.to_dict() for r in assessment.reasons)
        after = (assessment.level, rules)
        state = alert_state(before, after)
        if state is None:
            return None
        alert_id = _alert_id(*key, assessment.ts) if state == "raised" or previous is None else previous.alert_id
        seq = 0 if state == "raised" or previous is None else previous.seq + 1
        payload = assessment.to_alert_dict() | {"state": state, "alert_id": alert_id}
        Alert.model_validate(payload)  # what we publish is the contract, or we fail loudly here
        # coaches hear of a raise, an escalation and a clear, not of every update
        kind = "escalated" if state == "updated" and escalated(before, after) else state
        body = json.dumps(payload, separators=(",", ":"))

        def run(cur: Any) -> None:
            if state == "raised":
                cur.execute(
                    self.store.sql(
                        "INSERT INTO alerts (alert_id, team, athlete, state, level, score, payload, raised_ts, "
                        "updated_ts) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (alert_id) DO NOTHING"
                    ),
                    (alert_id, *key, state, assessment.level.label, assessment.score, body, assessment.ts,
                     assessment.ts),
                )  # fmt: skip
            else:
                cur.execute(
                    self.store.sql(
                        "UPDATE alerts SET state = ?, level = ?, score = ?, payload = ?, updated_ts = ?, "
                        "cleared_ts = ? WHERE alert_id = ?"
                    ),
                    (state, assessment.level.label, assessment.score, body, assessment.ts,
                     assessment.ts if state == "cleared" else None, alert_id),
                )  # fmt: skip
            cur.execute(
                self.store.sql(
                    "INSERT INTO alert_events (alert_id, seq, ts, state, level, payload) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING"
                ),
                (alert_id, seq, assessment.ts, state, assessment.level.label, body),
            )
            if kind != "updated":
                self._outbox.notify_alert_in(cur, payload, kind=kind, seq=seq, now_ms=assessment.ts)

        self.store.transaction(run)
        if state == "cleared":
            self._open.pop(key, None)
        else:
            self._open[key] = OpenAlert(alert_id, assessment.level, rules, seq)
        self._publish(alert_topic(*key), body.encode())
        log.info("alert", extra={"team": key[0], "athlete": key[1], "state": state, "level": assessment.level.label,
                                 "rules": ",".join(sorted(rules))})  # fmt: skip
        return payload


def _rule_severities(reasons: Iterable[dict[str, Any]]) -> frozenset[str]:
    """What makes an alert news: its rules and their severities (``session_spike:high``), not values."""
    return frozenset(f"{r['rule']}:{r['severity']}" for r in reasons)


def _alert_id(team: str, athlete: str, raised_ts: int) -> str:
    """Deterministic from what raised it, so a replay gives the same ids."""
    digest = hashlib.blake2b(f"{team}/{athlete}/{raised_ts}".encode(), digest_size=10).hexdigest()
    return f"al-{raised_ts:x}-{digest}"
