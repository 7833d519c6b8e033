"""Faults never change what coaches are told (issue 22): a differential test over the wire, on each store.

Fifty teams hold the same athletes (a steady runner, the seed's rope jumper, a runner back from a
break). Each team's traffic goes through its own random fault plan: messages sent twice, a whole
session redelivered three times, neighbours swapped, messages dropped and resent later (after their
session's end, at times), garbage and the ten-byte poison interleaved. Meanwhile `stridewatch run`
is killed -9 twice and the broker restarts once. The reference is the same athletes sent cleanly
through the same pipeline in one process, one message at a time (every state a clean run can pass
through). For every athlete of every team:

- no rule reaches a severity it never reaches cleanly (no alert the clean run does not raise);
- the level last published (retained) equals `stridewatch assess` at the athlete's last event;
- the store holds every valid message once.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ingest.records import Records, to_record
from ingest.store import Store
from scoring.severity import Severity
from simulators import Message, generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.risk.engine import RiskEngine
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.teams import TeamsConfig
from tests.alert_outcomes import RANK
from tests.databases import postgres_database
from tests.ingest_counts import start_ingest
from tests.mqtt_helpers import Collector, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
PLANS = 50
SCENARIOS = ("steady_runner", "jump_rope_spike", "restart_runner")
POISON = bytes.fromhex("fffe0067617262616765")
Worst = dict[str, dict[str, int]]  # athlete -> rule -> worst severity rank


def athletes_of(team: str) -> list[Message]:
    """The scenarios' athletes, all in ``team``, in event order."""
    out = []
    for m in generate(*SCENARIOS, end=SCENARIO_END, seed=2, batch_steps=100):
        _, _, _, athlete, device, stream = m.topic.split("/")
        out.append(m._replace(topic=f"stridewatch/v1/{team}/{athlete}/{device}/{stream}"))
    return sorted(out, key=lambda m: m.ts)


def faulty(messages: list[Message], rng: random.Random) -> list[tuple[str, bytes]]:
    """``messages`` through one random fault plan; each valid message is sent at least once."""
    keyed: list[tuple[float, str, bytes]] = []
    dup, swap, drops = rng.choice([0.0, 0.05, 0.2]), rng.choice([0.0, 0.1, 0.3]), rng.randint(0, 4)
    dropped = set(rng.sample(range(len(messages)), drops))
    for i, m in enumerate(messages):
        later = i + rng.randint(1, 60) + rng.random() if i in dropped else i
        keyed.append((later, m.topic, m.payload))
        if rng.random() < dup:
            keyed.append((i + rng.randint(0, 10) + rng.random(), m.topic, m.payload))
    if rng.random() < 0.6:  # a session redelivered three times, after its end
        ends = [i for i, m in enumerate(messages) if m.stream == "session" and b'"end"' in m.payload]
        end = rng.choice(ends)
        who = messages[end].topic.rsplit("/", 1)[0]
        start = max(
            i for i in range(end) if messages[i].topic.rsplit("/", 1)[0] == who and b'"start"' in messages[i].payload
        )
        session = [m for m in messages[start : end + 1] if m.topic.startswith(who)]
        for copy in range(2):
            at = end + rng.randint(1, 30) + 0.5 * copy
            keyed += [(at + j * 1e-4, m.topic, m.payload) for j, m in enumerate(session)]
    for _ in range(rng.randint(0, 5)):  # garbage on the team's own topics
        topic = rng.choice(messages).topic
        junk = rng.choice([POISON, rng.randbytes(rng.randint(0, 40)), b'{"ts": 1, "note": "\\u0000"}'])
        keyed.append((rng.uniform(0, len(messages)), topic, junk))
    wire = [(topic, payload) for _, topic, payload in sorted(keyed, key=lambda k: k[0])]
    for i in range(len(wire) - 1):
        if rng.random() < swap:
            wire[i], wire[i + 1] = wire[i + 1], wire[i]
    return wire


def interleaved(plans: list[list[tuple[str, bytes]]], rng: random.Random) -> list[tuple[str, bytes]]:
    """The teams' traffic in turns of 20 to 400 messages: a whole session, redeliveries and all, often
    falls in one of the service's batches, and often across several."""
    queues = [list(reversed(plan)) for plan in plans]
    wire: list[tuple[str, bytes]] = []
    while any(queues):
        for queue in queues:
            for _ in range(min(len(queue), rng.randint(20, 400))):
                wire.append(queue.pop())
    return wire


def worst_rules(alerts: list[dict[str, object]]) -> Worst:
    out: Worst = {}
    for alert in alerts:
        rules = out.setdefault(str(alert["athlete"]), {})
        for reason in alert["reasons"]:  # type: ignore[attr-defined]
            rules[reason["rule"]] = max(rules.get(reason["rule"], 0), RANK[reason["severity"]])
    return out


def clean_reference(tmp_path: Path) -> Worst:
    """The athletes sent cleanly, one message per batch, through the service's pipeline in this process."""
    alerts: list[dict[str, object]] = []
    now = int(time.time() * 1000)
    with Store(f"sqlite:///{tmp_path}/clean.db", synchronous="OFF") as store:
        store.migrate()
        service = RiskPipeline(store, TeamsConfig.default(), lambda _t, payload, _i: alerts.append(json.loads(payload)))
        for m in athletes_of("clean"):
            records = Records.of([to_record(m.topic, m.payload, now_ms=now, max_future_ms=0)])
            service.handle(store.write(records, received_at=now))
    return worst_rules(alerts)


def served(backend: str, db_url: str, broker: SpawnedMosquitto, wire: list[tuple[str, bytes]], workdir: Path) -> None:
    """``wire`` through `stridewatch run`, killed -9 twice and the broker restarted once along the way."""
    log_path, health = workdir / "run.log", workdir / "health.json"
    rng = random.Random(backend)

    def start() -> object:
        health.unlink(missing_ok=True)
        with log_path.open("ab") as log:
            process = start_ingest(broker.url, db_url, log, f"faults-{backend}", "--health-file", str(health),
                                   command="run")  # fmt: skip
        wait_until(health.exists, timeout=60, what="run started")
        return process

    def sent(chunk: list[tuple[str, bytes]]) -> None:
        messages = [Message(topic, payload, 0) for topic, payload in chunk]
        publish(messages, url=broker.url, progress=False, client_id=f"faults-publisher-{backend}")

    chunks = [wire[k * len(wire) // 4 : (k + 1) * len(wire) // 4] for k in range(4)]
    process = start()
    try:
        for k, chunk in enumerate(chunks):
            sent(chunk)
            time.sleep(rng.uniform(0.2, 2.0))
            if k in (0, 2):  # killed while it works through what came
                process.kill()  # type: ignore[attr-defined]
                process.wait()  # type: ignore[attr-defined]
                process = start()
            elif k == 1:
                broker.stop()
                broker.start()
        wait_until(lambda: settled(health), timeout=600, what="the last batch scored")
        assert process.poll() is None, log_path.read_text()[-3000:]  # type: ignore[attr-defined]
    finally:
        process.terminate()  # type: ignore[attr-defined]
        process.wait(15)  # type: ignore[attr-defined]
    assert "Traceback" not in log_path.read_text()


def settled(health: Path) -> bool:
    """Connected, with nothing handled for 3 s."""
    if not health.exists():
        return False
    state = json.loads(health.read_text())
    return bool(state["connected"] and state["last_batch_done_at"] and time.time() - state["last_batch_done_at"] > 3)


def retained_levels(broker_url: str, teams: list[str]) -> dict[tuple[str, str], tuple[str, int]]:
    with Collector(broker_url, "stridewatch/v1/+/alerts/+") as retained:
        time.sleep(2.0)
    out = {}
    for _topic, payload, _ in retained.snapshot():
        alert = json.loads(payload)
        if alert["team"] in teams:
            out[(alert["team"], alert["athlete"])] = (alert["level"], alert["ts"])
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path}/run.db" if request.param == "sqlite" else stack.enter_context(postgres_database())
        yield request.param, url


@pytest.mark.timeout(1200)
def test_faulty_traffic_tells_coaches_what_clean_traffic_does(
    backend_db: tuple[str, str], own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    backend, db_url = backend_db
    reference = clean_reference(tmp_path)
    assert max(reference["rope-jumper"].values()) >= RANK["high"], "the reference raises nothing to compare"
    assert not reference.get("steady"), "the steady runner is the false-positive control"
    teams = [f"plan-{k:02d}" for k in range(PLANS)]
    clean = {team: athletes_of(team) for team in teams}
    rng = random.Random(f"plans-{backend}")
    plans = [faulty(clean[team], random.Random(rng.random())) for team in teams]
    wire = interleaved(plans, rng)
    served(backend, db_url, own_broker, wire, tmp_path)

    published = retained_levels(own_broker.url, teams)
    with Store(db_url) as store:
        events = [json.loads(p) for (p,) in store.query("SELECT payload FROM alert_events ORDER BY ts, seq")]
        engine = RiskEngine(store, TeamsConfig.default())
        engine.refresh_features()
        stored = {(t, a): n for t, a, n in store.query(
            "SELECT team, athlete, sum(n_steps) FROM step_batches GROUP BY team, athlete")}  # fmt: skip
        found: list[str] = []
        for team in teams:
            told = worst_rules([e for e in events if e["team"] == team])
            by_athlete: dict[str, list[Message]] = {}
            for m in clean[team]:
                by_athlete.setdefault(m.topic.split("/")[3], []).append(m)
            for athlete, own in by_athlete.items():
                extra = {rule: sev for rule, sev in told.get(athlete, {}).items()
                         if sev > reference.get(athlete, {}).get(rule, 0)}  # fmt: skip
                if extra:
                    found.append(f"{team}/{athlete}: raised beyond the clean run: {extra}")
                last = max(m.ts for m in own if m.stream != "status")
                (assessed,) = engine.assess_all(at=last, team=team, athlete=athlete) or [None]
                expected = assessed.level.label if assessed else Severity.LOW.label
                level = published.get((team, athlete), ("low", 0))[0]
                if level != expected:
                    found.append(f"{team}/{athlete}: published {level}, assess says {expected}")
                steps = sum(m.steps for m in own if m.stream == "steps")
                if stored.get((team, athlete), 0) != steps:
                    found.append(f"{team}/{athlete}: {stored.get((team, athlete), 0)} steps stored of {steps}")
    assert found == [], "\n".join(found[:20])
