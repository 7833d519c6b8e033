"""`stridewatch run` end to end through a real Mosquitto: devices in, the coach's risk topic out."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from ingest.consumer import ConsumerConfig
from ingest.payloads import Alert
from ingest.store import Store
from simulators import generate, list_scenarios, load_scenario, publish
from stridewatch.broker.local import free_port
from stridewatch.services.run import RunService
from stridewatch.teams import TeamsConfig
from tests.mqtt_helpers import Collector, wait_until
from tests.scenario_expectations import RANK, SCENARIO_END, check

pytestmark = pytest.mark.integration
END = SCENARIO_END


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        Webhook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[int]:
    Webhook.received = []
    server = HTTPServer(("127.0.0.1", free_port()), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def service(broker: object, tmp_path: Path, webhook: int) -> Iterator[RunService]:
    teams = tmp_path / "teams.toml"
    teams.write_text(
        f'[teams.club]\nname = "Rope club"\nnotify_min_level = "high"\n'
        f'[[teams.club.coaches]]\nname = "Coach"\nnotify = ["json://127.0.0.1:{webhook}/hook"]\n'
    )
    config = ConsumerConfig(
        mqtt_url=broker.url, db_url=f"sqlite:///{tmp_path}/run.db", client_id=f"run-{time.time_ns()}"
    )  # type: ignore[attr-defined]
    svc = RunService(config, TeamsConfig.load(teams))
    svc.start()
    yield svc
    svc.stop()


def settled(service: RunService, at_least: int) -> bool:
    """All ``at_least`` messages consumed and nothing committed for a second: the count alone can be
    reached early, since the shared broker also delivers earlier tests' retained device status."""
    health = service.consumer.health
    return health.received >= at_least and time.time() - (health.last_batch_done_at or 0) > 1.0


def alerts_of(collector: Collector, athlete: str) -> list[dict[str, object]]:
    return [json.loads(p) for t, p, _r in collector.snapshot() if t.endswith(f"/alerts/{athlete}")]


def test_scenarios_reach_the_risk_topic_in_time_retained_and_without_spam(
    broker: object, service: RunService, webhook: int
) -> None:
    url = broker.url  # type: ignore[attr-defined]
    rope = list(generate("jump_rope_spike", end=END, seed=2, batch_steps=50))
    steady = list(generate("steady_runner", end=END, seed=2, batch_steps=50))
    sessions = [(m, json.loads(m.payload)) for m in rope if m.stream == "session"]
    fifth = [p for _m, p in sessions if p["event"] == "start"][4]["session_id"]
    fifth_end = next(m for m, p in sessions if p["event"] == "end" and p["session_id"] == fifth)
    cut = rope.index(fifth_end)

    with Collector(url, "stridewatch/v1/+/alerts/+") as coach:
        # Everything up to the fifth session's end event: the alert must come before that event exists.
        publish(rope[:cut], url=url, progress=False)
        wait_until(
            lambda: any(
                any(r["rule"] == "longest_session" and r["severity"] == "high" for r in a["reasons"])  # type: ignore[attr-defined, index]
                for a in alerts_of(coach, "rope-jumper")
            ),
            timeout=60,
            what="a high longest_session during the fifth session",
        )
        publish(rope[cut:] + steady, url=url, progress=False)
        total = len(rope) + len(steady)
        wait_until(lambda: settled(service, total), timeout=180, what="every message consumed")
        time.sleep(1.0)
        rope_alerts = alerts_of(coach, "rope-jumper")
        steady_alerts = alerts_of(coach, "steady")

    for payload in rope_alerts + steady_alerts:
        Alert.model_validate(payload)  # exactly the contract's alert payload
    assert max(RANK[a["level"]] for a in rope_alerts) == RANK["critical"]  # type: ignore[index]
    assert {"longest_session", "pain_acute", "asymmetry"} <= {r["rule"] for a in rope_alerts for r in a["reasons"]}  # type: ignore[attr-defined]
    assert all(RANK[a["level"]] < RANK["high"] for a in steady_alerts)  # type: ignore[index]
    assert any(a["state"] == "cleared" and a["level"] == "low" for a in rope_alerts)

    # A coach app connecting now sees each athlete's current state at once (retained).
    with Collector(url, "stridewatch/v1/club/alerts/+") as late:
        wait_until(lambda: bool(late.snapshot()), timeout=10, what="the retained state")
        time.sleep(0.3)
        retained = [(json.loads(p), r) for _t, p, r in late.snapshot()]
    assert [(p, True) for p in [rope_alerts[-1]]] == retained

    # Notifications: raises, escalations and clears at or above "high" reach the coach, not every update.
    expected, previous, told = 0, "low", False
    for a in rope_alerts:
        level = str(a["level"])
        up = a["state"] == "raised" or (a["state"] == "updated" and RANK[level] > RANK[previous])
        if up and RANK[level] >= RANK["high"]:
            expected, told = expected + 1, True
        elif a["state"] == "cleared":
            expected, told = expected + told, False
        previous = level
    assert expected >= 2
    wait_until(lambda: len(Webhook.received) >= expected, timeout=30, what=f"{expected} notifications")
    time.sleep(1.5)
    notified = len(Webhook.received)
    assert notified == expected
    assert all("rope-jumper" in str(n["title"]) for n in Webhook.received)

    # Replaying the same history (the devices resend everything) changes nothing a coach sees.
    with Store(service.consumer.config.db_url) as store:
        before = (
            store.query("SELECT count(*) FROM alert_events")[0][0],
            store.query("SELECT count(*) FROM notifications")[0][0],
        )
    received = service.consumer.health.received
    publish(rope, url=url, progress=False)
    wait_until(lambda: settled(service, received + len(rope)), timeout=120, what="the replay consumed")
    with Store(service.consumer.config.db_url) as store:
        after = (
            store.query("SELECT count(*) FROM alert_events")[0][0],
            store.query("SELECT count(*) FROM notifications")[0][0],
        )
    assert after == before
    time.sleep(2)
    assert len(Webhook.received) == notified


def test_every_scenario_through_the_broker_gets_the_alerts_rules_md_expects(
    broker: object, service: RunService
) -> None:
    url = broker.url  # type: ignore[attr-defined]
    names = list_scenarios()
    replay = list(generate(*names, end=END, seed=4, batch_steps=50))
    athletes = {name: {a.id for a in load_scenario(name).athletes} for name in names}
    with Collector(url, "stridewatch/v1/+/alerts/+") as coach:
        publish(replay, url=url, progress=False)
        wait_until(lambda: settled(service, len(replay)), timeout=400, what="every message consumed")
        time.sleep(1.0)
        alerts = [json.loads(p) for _t, p, _r in coach.snapshot()]
    for name in names:
        check(name, [a for a in alerts if a["athlete"] in athletes[name]])
