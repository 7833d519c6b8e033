"""`stridewatch demo`: the whole system on one machine, watched as a coach would.

A private broker, the `run` service on a fresh SQLite file, the seed article's athletes
and a small fleet replayed at full speed (weeks of history in a minute), and the coach's
board updating live from the retained risk topic; then what fired, when and why.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from ingest.consumer import ConsumerConfig
from ingest.store import Store
from simulators import PublishReport, Scenario, fleet, generate, list_scenarios, load_scenario, publish
from stridewatch.broker.local import mosquitto
from stridewatch.services.run import RunService
from stridewatch.teams import TeamsConfig
from stridewatch.tools.alert_view import CoachBoard, subscribe_alerts


def run_demo(
    *, fleet_size: int = 6, workdir: Path | None = None, end: date | None = None, console: Console | None = None
) -> CoachBoard:
    console = console or Console()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="stridewatch-demo-"))
    (workdir / "broker").mkdir(parents=True, exist_ok=True)
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    console.print(
        "[bold]stridewatch demo[/bold]: the seed article's athletes "
        f"({', '.join(list_scenarios())}) and a fleet of {fleet_size} more, replayed from their "
        "wearables over MQTT; the board below is what a coach's app shows, fed by the retained "
        "risk topic stridewatch/v1/{team}/alerts/{athlete}."
    )
    items: list[Scenario] = [load_scenario(name) for name in list_scenarios()]
    if fleet_size:
        items.append(fleet(fleet_size, teams=2, days=28, seed=1))
    replay = generate(*items, end=end, seed=1, batch_steps=50)
    with mosquitto(workdir / "broker") as broker:
        db = f"sqlite:///{workdir}/stridewatch.db"
        service = RunService(
            ConsumerConfig(mqtt_url=broker.url, db_url=db, client_id="stridewatch-demo"), TeamsConfig.default()
        )
        service.start()
        board = CoachBoard()
        watcher = subscribe_alerts(broker.url, board)
        report: list[PublishReport] = []
        publisher = threading.Thread(
            target=lambda: report.append(publish(replay, url=broker.url, progress=False)), daemon=True
        )
        started = time.monotonic()
        publisher.start()
        health = service.consumer.health
        try:
            with Live(console=console, refresh_per_second=4) as live:
                while True:
                    done = not publisher.is_alive() and report and health.received >= report[0].messages
                    status = Text(
                        f"{time.monotonic() - started:5.0f} s  messages stored {health.stored:,}"
                        f"  dead letters {health.dead_letters}  alerts {len(board.history)}"
                        + ("  (replay published, draining)" if not publisher.is_alive() else "  (replaying)"),
                        style="dim",
                    )
                    live.update(Group(board.table(), status))
                    if done:
                        break
                    time.sleep(0.25)
            time.sleep(0.5)  # the last retained alerts on their way to the board
        finally:
            watcher.disconnect()
            watcher.loop_stop()
            service.stop()
    console.print(board.summary())
    console.print(_never_flagged(items, board))
    with Store(db) as store:
        stats = store.stats()
    steps = sum(s.steps for s in stats)
    # As this demo was started (e.g. .venv/bin/stridewatch), so the hint works when pasted.
    command = sys.argv[0] if Path(sys.argv[0]).name == "stridewatch" else "stridewatch"
    console.print(
        f"{steps:,} steps in {sum(s.sessions for s in stats):,} sessions stored in {db} "
        f"in {time.monotonic() - started:.0f} s. Ask it yourself: "
        f"{command} assess --db {db} --at {end.isoformat()}, or see it in the coach's dashboard: "
        f"{command} dashboard --db {db}"
    )
    return board


def _never_flagged(scenarios: list[Scenario], board: CoachBoard) -> str:
    """The athletes who stayed low throughout; the seed's controls (expected low) are named as such."""
    flagged = {(a["team"], a["athlete"]) for a in board.history if a["level"] != "low"}
    quiet = [
        f"{athlete.id}"
        + (" (the false-positive control)" if scenario.expect and scenario.expect.max_level == "low" else "")
        for scenario in scenarios
        for athlete in scenario.athletes
        if (athlete.team or scenario.team, athlete.id) not in flagged
    ]
    return f"Low throughout, never flagged: {', '.join(quiet) or 'nobody'}."
