"""What a coach sees in a terminal: risk tables, the live board, the alert tail."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ingest.mqtt import BrokerAddress, connect_blocking, make_client
from ingest.topics import alert_filter
from scoring import Assessment

LEVEL_STYLE = {"low": "green", "moderate": "yellow", "high": "bold red", "critical": "bold white on red"}
LEVEL_RANK = {"low": 0, "moderate": 1, "high": 2, "critical": 3}


def when(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _level(level: str) -> Text:
    return Text(level.upper(), style=LEVEL_STYLE.get(level, ""))


def _reasons(reasons: list[dict[str, Any]], most: int = 3) -> str:
    return "\n".join(f"{r['severity']}: {r['message']}" for r in reasons[:most]) or "-"


def assessments_table(assessments: Iterable[Assessment], *, title: str) -> Table:
    """Athletes ordered by risk, with their top reasons in words."""
    table = Table(title=title, show_lines=True)
    for column in ("team", "athlete", "level", "score", "why"):
        table.add_column(column, overflow="fold")
    rows = sorted((a.to_alert_dict() for a in assessments), key=lambda a: (-a["score"], a["team"], a["athlete"]))
    for a in rows:
        table.add_row(a["team"], a["athlete"], _level(a["level"]), str(a["score"]), _reasons(a["reasons"]))
    return table


@dataclass
class CoachBoard:
    """Each athlete's current alert, from the retained risk topic, and every change seen."""

    current: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.current[(payload["team"], payload["athlete"])] = payload
            self.history.append(payload)

    def table(self, *, title: str = "stridewatch: the coach's view") -> Table:
        with self._lock:
            rows = sorted(self.current.values(), key=lambda a: (-LEVEL_RANK[a["level"]], -a["score"], a["athlete"]))
        table = Table(title=title, show_lines=True, expand=True)
        table.add_column("athlete", overflow="fold")
        table.add_column("level")
        table.add_column("score", justify="right")
        table.add_column("state")
        table.add_column("as of (event time)")
        table.add_column("why (top reasons)", ratio=1, overflow="fold")
        for a in rows:
            table.add_row(f"{a['athlete']}\n[dim]{a['team']}[/dim]", _level(a["level"]), str(a["score"]), a["state"],
                          when(a["ts"]), _reasons(a["reasons"]))  # fmt: skip
        return table

    def summary(self) -> Table:
        """Per athlete: when they were first flagged, their worst moment, and where they stand now."""
        with self._lock:
            events = sorted(self.history, key=lambda a: (a["ts"], a["athlete"]))
        per_athlete: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for a in events:
            per_athlete.setdefault((a["team"], a["athlete"]), []).append(a)
        table = Table(title="what happened: each athlete's first flag, worst moment and state now", show_lines=True)
        for column in ("athlete", "first flagged", "worst", "now"):
            table.add_column(column, overflow="fold")

        def cell(a: dict[str, Any]) -> Text:
            return Text.assemble(_level(a["level"]), f" {when(a['ts'])}\n{_reasons(a['reasons'], most=2)}")

        ranked = sorted(per_athlete.items(), key=lambda kv: -max(LEVEL_RANK[a["level"]] for a in kv[1]))
        for (team, athlete), alerts in ranked:
            worst = max(alerts, key=lambda a: (LEVEL_RANK[a["level"]], a["score"]))
            table.add_row(f"{athlete}\n[dim]{team}[/dim]", cell(alerts[0]), cell(worst), cell(alerts[-1]))
        return table


def subscribe_alerts(url: str, board: CoachBoard, *, team: str = "+") -> mqtt.Client:
    """A connected client feeding ``board`` from the risk topic (retained states first)."""
    address = BrokerAddress.parse(url)
    client = make_client(address)
    client.on_message = lambda _c, _u, msg: board.add(json.loads(msg.payload))
    connect_blocking(client, address)
    client.subscribe(alert_filter(team), options=SubscribeOptions(qos=1))
    return client


def tail_alerts(url: str, *, team: str = "+", count: int | None = None) -> None:
    console = Console()
    done = threading.Event()
    seen = 0

    class _Printer(CoachBoard):
        def add(self, payload: dict[str, Any]) -> None:
            nonlocal seen
            seen += 1
            line = Text.assemble(
                f"{when(payload['ts'])}  {payload['team']}/{payload['athlete']}  {payload['state']:8} ",
                _level(payload["level"]),
                f"  {payload['score']:3}  ",
                payload["reasons"][0]["message"] if payload["reasons"] else "back to low risk",
            )
            console.print(line)
            if count is not None and seen >= count:
                done.set()

    client = subscribe_alerts(url, _Printer(), team=team)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        client.disconnect()
        client.loop_stop()
