"""The alert history: each alert's lifecycle, in the words coaches were notified with, and who
acknowledged it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ingest.store import Store
from stridewatch.dashboard.acks import Acknowledgement, acks_by_alert
from stridewatch.notify.texts import format_notification
from stridewatch.risk.alert_store import AlertStore


@dataclass(frozen=True)
class AlertEvent:
    ts: int
    state: str
    level: str
    score: int
    title: str
    lines: tuple[str, ...]  # the notification's body, line by line


@dataclass(frozen=True)
class AlertEntry:
    alert_id: str
    team: str
    athlete: str
    state: str
    level: str
    raised_ts: int
    updated_ts: int
    events: tuple[AlertEvent, ...]  # newest first
    acks: tuple[Acknowledgement, ...]  # oldest first

    @property
    def is_open(self) -> bool:
        return self.state != "cleared"


def alert_history(
    store: Store,
    *,
    team: str | None = None,
    athlete: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[AlertEntry]:
    """Alerts (of ``team``, ``athlete``) with an event between ``since`` and ``until`` (epoch ms),
    most recently updated first; events after ``until`` are left out."""
    rows = AlertStore(store).history(team=team, athlete=athlete, since=since, until=until)
    events: dict[str, list[AlertEvent]] = {}
    keys: dict[str, tuple[str, str, int]] = {}
    for alert_id, alert_team, alert_athlete, raised_ts, ts, state, level, payload in rows:
        alert = json.loads(payload)
        title, body = format_notification(alert, "cleared" if state == "cleared" else "raised")
        events.setdefault(alert_id, []).append(
            AlertEvent(ts, state, level, alert["score"], title, tuple(body.splitlines()))
        )
        keys[alert_id] = (alert_team, alert_athlete, raised_ts)
    acks = acks_by_alert(store, team=team)
    entries = [
        AlertEntry(
            alert_id=alert_id,
            team=keys[alert_id][0],
            athlete=keys[alert_id][1],
            state=happened[-1].state,
            level=happened[-1].level,
            raised_ts=keys[alert_id][2],
            updated_ts=happened[-1].ts,
            events=tuple(reversed(happened)),
            acks=tuple(acks.get(alert_id, ())),
        )
        for alert_id, happened in events.items()
    ]
    return sorted(entries, key=lambda e: (-e.updated_ts, e.alert_id))
