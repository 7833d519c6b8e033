"""The alert lifecycle: raised -> updated -> cleared, stored, published retained, notified.

An athlete has at most one open alert. It is raised when their level leaves "low",
updated when the level, the set of reasons or a reason's severity changes (a value
moving while the same rules stay at the same severity is not news), and cleared on the
way back to low. Every transition is
stored as an event with its payload; the coach is notified on raise, on escalation (the
level went up) and on clear, through the outbox, in the same transaction, and the event
reaches the retained risk topic through the `Relay`. Everything is computed from event
time, so replaying history gives the alerts that living it gave.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.payloads import Alert
from ingest.store import Store, Unit
from scoring import Assessment, Severity, alert_state
from scoring.level import AlertState, escalated
from stridewatch.notify.outbox import Outbox
from stridewatch.notify.texts import Kind
from stridewatch.risk.alert_store import AlertStore
from stridewatch.risk.relay import Event, Publish, Relay
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.risk.alerts")


@dataclass(frozen=True)
class Change:
    """An alert's transition, decided by `AlertBook.stage`: stored and published by `AlertBook.commit`."""

    assessment: Assessment
    state: AlertState
    notify: Kind | None  # what the coaches are told of: a raise, an escalation, a clear; None for an update
    alert_id: str
    seq: int
    payload: dict[str, Any]
    body: str


@dataclass(frozen=True)
class OpenAlert:
    alert_id: str
    level: Severity
    rules: frozenset[str]
    seq: int


class AlertBook:
    """Current alert per athlete, read from the store for the athletes the service scores."""

    def __init__(self, store: Store, teams: TeamsConfig, publish: Publish | None) -> None:
        self.store = store
        self.teams = teams
        self._alerts = AlertStore(store)
        self.relay = Relay(self._alerts, publish)
        self._outbox = Outbox(store, teams=teams)
        self._open: dict[tuple[str, str], OpenAlert] = {}

    def adopt(self, whose: Callable[[str, str], bool]) -> None:
        """Read the open alerts of the athletes ``whose`` accepts from the store (at start, or when
        their partition is taken over) and publish what the broker never acknowledged of them."""
        self.forget(whose)
        for team, athlete, alert_id, level, payload, seq in self._alerts.open_alerts():
            if whose(team, athlete):
                rules = _rule_severities(json.loads(payload)["reasons"])
                self._open[(team, athlete)] = OpenAlert(alert_id, Severity[level.upper()], rules, seq)
        self.relay.resend(whose)

    def forget(self, whose: Callable[[str, str], bool]) -> None:
        """Drop the athletes ``whose`` accepts: another process scores them now."""
        self._open = {key: alert for key, alert in self._open.items() if not whose(*key)}

    def current(self, team: str, athlete: str) -> OpenAlert | None:
        return self._open.get((team, athlete))

    def open_athletes(self) -> list[tuple[str, str]]:
        """Every (team, athlete) with an alert not cleared."""
        return list(self._open)

    def stage(self, assessment: Assessment) -> Change | None:
        """The alert transition an athlete's latest assessment makes, if any; the book moves on to it
        at once (so the next assessment is judged against it), and `commit` stores and publishes it."""
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
        notify: Kind | None = state if state != "updated" else "escalated" if escalated(before, after) else None
        if state == "cleared":
            self._open.pop(key, None)
        else:
            self._open[key] = OpenAlert(alert_id, assessment.level, rules, seq)
        return Change(assessment, state, notify, alert_id, seq, payload, json.dumps(payload, separators=(",", ":")))

    def record(self, changes: Sequence[Change], unit: Unit) -> None:
        """Store ``changes`` with ``unit`` (beside, e.g., the checkpoints of the states that produced
        them), and publish them in order once it has committed. If the store fails, the book is
        ahead of it: the caller reads it back from the store (`adopt`)."""
        for change in changes:
            unit.write(lambda cur, change=change: self._write(cur, change))  # type: ignore[misc]
        self.relay.mark(unit)

        def published() -> None:
            self.relay.send(Event(c.assessment.team, c.assessment.athlete, c.alert_id, c.seq, c.body) for c in changes)
            for change in changes:
                a = change.assessment
                log.info("alert", extra={"team": a.team, "athlete": a.athlete, "state": change.state,
                                         "level": a.level.label, "rules": ",".join(r.rule for r in a.reasons)})  # fmt: skip

        unit.after(published)

    def _write(self, cur: Any, change: Change) -> None:
        a = change.assessment
        self._alerts.write(cur, alert_id=change.alert_id, seq=change.seq, state=change.state, team=a.team,
                           athlete=a.athlete, level=a.level.label, score=a.score, ts=a.ts, body=change.body)  # fmt: skip
        if change.notify is not None:
            self._outbox.notify_alert_in(cur, change.payload, kind=change.notify, seq=change.seq, now_ms=a.ts)


def _rule_severities(reasons: Iterable[dict[str, Any]]) -> frozenset[str]:
    """What makes an alert news: its rules and their severities (``session_spike:high``), not values."""
    return frozenset(f"{r['rule']}:{r['severity']}" for r in reasons)


def _alert_id(team: str, athlete: str, raised_ts: int) -> str:
    """Deterministic from what raised it, so a replay gives the same ids."""
    digest = hashlib.blake2b(f"{team}/{athlete}/{raised_ts}".encode(), digest_size=10).hexdigest()
    return f"al-{raised_ts:x}-{digest}"
