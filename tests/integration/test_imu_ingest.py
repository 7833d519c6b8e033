"""Raw pods through a real broker and store: detected once, exactly as offline, whatever the network does.

The expected steps are the detector's over each session's batches in order, in one pass
(`offline_steps`); the consumer must store exactly those, through duplicates, reordering,
a consumer killed -9 at random moments, and bad batches that become dead letters.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from ingest.consumer import Consumer
from ingest.imu import Detector
from ingest.payloads import ImuBatch
from ingest.store import Store
from simulators import FaultPlan, Message, generate, publish
from stridewatch.broker.local import SpawnedMosquitto
from tests.ingest_counts import killed_while_publishing
from tests.mqtt_helpers import Collector, publish_all, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
Key = tuple[str, str, str, str]


def offline_steps(messages: list[Message]) -> dict[Key, list[tuple[int, str, float, float]]]:
    """Each session's steps (ts, foot, cadence, impact): its batches in seq order, one detector, finished."""
    batches: dict[Key, list[ImuBatch]] = defaultdict(list)
    for m in messages:
        if m.stream == "imu" and not m.fault and not m.duplicate:
            batch = m.parse()
            assert isinstance(batch, ImuBatch)
            team, athlete, device = m.topic.split("/")[2:5]
            batches[(team, athlete, device, batch.session_id)].append(batch)
    out = {}
    for key, session in batches.items():
        session.sort(key=lambda b: b.seq)
        detector = Detector.start(session[0].placement, session[0].side)
        rows = [detector.feed(b.ts, b.rate_hz, b.xyz_g) for b in session] + [detector.finish()]
        ts, right, cadence, impact = (np.concatenate(c) for c in zip(*rows, strict=True))
        out[key] = list(
            zip(ts.tolist(), np.where(right, "R", "L").tolist(), cadence.tolist(), impact.tolist(), strict=True)
        )
    return out


def stored_steps(db_url: str, team: str) -> dict[Key, list[tuple[int, str, float, float]]]:
    with Store(db_url) as store:
        store.migrate()
        frame = store.steps(team=team)
    out: dict[Key, list[tuple[int, str, float, float]]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        key = (row["team"], row["athlete"], row["device"], row["session_id"])
        impact = float("nan") if row["impact_g"] is None else row["impact_g"]
        out[key].append((row["ts"], row["foot"], row["cadence_spm"], impact))
    return dict(out)


def same(a: dict[Key, list[tuple[int, str, float, float]]], b: dict[Key, list[tuple[int, str, float, float]]]) -> bool:
    # NaN != NaN: compare the impacts through their text
    return {k: [(t, f, c, repr(i)) for t, f, c, i in v] for k, v in a.items()} == {
        k: [(t, f, c, repr(i)) for t, f, c, i in v] for k, v in b.items()
    }


def replay(team: str, seed: int) -> list[Message]:
    """The rope jumper's first three sessions as raw pod data, re-addressed to ``team``."""
    messages = [m for m in generate("jump_rope_spike", end=SCENARIO_END, seed=seed, imu=True) if m.stream != "wellness"]
    starts = [m.ts for m in messages if m.stream == "session" and b'"start"' in m.payload]
    kept = [m for m in messages if m.ts < starts[3]]
    return [m._replace(topic=m.topic.replace("/club/", f"/{team}/")) for m in kept]


def test_raw_pods_with_duplicates_and_reordering_are_detected_as_offline(broker: object, consumer: Consumer) -> None:
    team = f"imu-{time.time_ns()}"
    clean = replay(team, seed=3)
    faulty = list(FaultPlan(duplicate=0.05, reorder=12).apply(_as_replay(clean), seed=3))
    assert sum(m.duplicate for m in faulty) > 50
    seqs = [json.loads(m.payload)["seq"] for m in _imu(faulty)]
    assert seqs != sorted(seqs)  # reordered indeed
    publish(faulty, url=broker.url, progress=False)  # type: ignore[attr-defined]
    expected = offline_steps(clean)
    jumps = sum(m.steps for m in generate("jump_rope_spike", end=SCENARIO_END, seed=3) if m.ts < clean[-1].ts)
    assert abs(sum(len(v) for v in expected.values()) - jumps) <= 0.01 * jumps
    wait_until(lambda: same(stored_steps(consumer.config.db_url, team), expected), timeout=120,
               what="the detected steps stored")  # fmt: skip
    assert consumer.health.dead_letters == 0
    with Store(consumer.config.db_url) as store:
        (stats,) = [s for s in store.stats() if s.team == team]
        held = store.query("SELECT sum(held) FROM imu_streams WHERE team = ?", (team,))[0][0]
    assert stats.messages == sum(m.stream in ("imu", "session") for m in clean)
    assert held == 0


def test_a_consumer_killed_at_random_moments_loses_and_doubles_no_step(
    own_broker: SpawnedMosquitto, db_url: str, tmp_path: Path
) -> None:
    team = f"imu-kill-{time.time_ns()}"
    clean = replay(team, seed=5)
    expected = offline_steps(clean)
    with killed_while_publishing(own_broker.url, db_url, tmp_path / "ingest.log", "imu-killed", clean, kills=4,
                                 max_gap_s=1.0) as kills:  # fmt: skip
        wait_until(lambda: same(stored_steps(db_url, team), expected), timeout=120, what="the detected steps stored")
    assert kills >= 4


def test_bad_batches_are_dead_lettered_with_their_reason_and_the_session_goes_on(
    broker: object, consumer: Consumer
) -> None:
    team = f"imu-bad-{time.time_ns()}"
    clean = replay(team, seed=7)
    imu = _imu(clean)
    first = json.loads(imu[5].payload)
    overlapping = dict(first, seq=10**9)  # the same samples under a new seq
    reused = dict(json.loads(imu[6].payload), ts=first["ts"] - 3_600_000)  # an old seq for other samples
    moved = dict(json.loads(imu[7].payload), seq=10**9 + 1, placement="foot", ts=first["ts"] + 10**7)
    nan = imu[8].payload.replace(b'"rate_hz":100', b'"rate_hz":NaN')
    bad = [(imu[0].topic, json.dumps(b).encode()) for b in (overlapping, reused, moved)] + [(imu[0].topic, nan)]
    with Collector(broker.url, f"stridewatch/v1/{team}/deadletter") as dead:  # type: ignore[attr-defined]
        publish(clean, url=broker.url, progress=False)  # type: ignore[attr-defined]
        wait_until(lambda: same(stored_steps(consumer.config.db_url, team), offline_steps(clean)), timeout=120,
                   what="the detected steps stored")  # fmt: skip
        publish_all(broker.url, bad)  # type: ignore[attr-defined]
        wait_until(lambda: len(dead.snapshot()) >= len(bad), timeout=30, what="four dead letters")
    reasons = sorted(json.loads(p)["reason"] for _t, p, _r in dead.snapshot())  # store rejections come last
    expected = sorted([
        "ts: must not overlap the samples of another batch of this session (samples ",
        f"seq: {reused['seq']} was already used by this device in session {first['session_id']} for other samples",
        "placement: must stay the session's sensor (foot, side L; the session's: shin, side L)",
        "rate_hz: must be a finite number (NaN and Infinity are not allowed)",
    ])  # fmt: skip
    assert len(reasons) == 4
    assert all(got.startswith(want) for got, want in zip(reasons, expected, strict=True)), reasons
    assert same(stored_steps(consumer.config.db_url, team), offline_steps(clean))  # nothing else touched


def _imu(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.stream == "imu"]


def _as_replay(messages: list[Message]) -> object:
    from simulators import Replay

    return Replay(messages[0].ts, messages[-1].ts, lambda: iter(messages))
