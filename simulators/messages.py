"""Scenario -> the MQTT messages its devices would publish, in event-time order.

Each session emits, on the athlete's pod: a retained ``status`` (online), ``session`` start,
``steps`` batches (about one second of steps each, as pods send them, or a fixed number),
``session`` end, and a retained ``status`` (offline). The phone publishes ``wellness``.
With ``imu``, foot and shin pods send their raw acceleration instead of steps
(`simulators.pod_signal`, one ``imu`` batch per ``batch_s``), for the server to detect.
Session and wellness payloads are built through the contract's pydantic models; steps,
millions of them in a fleet, are written straight from numpy columns (the tests parse
every one back with ``ingest.payloads.parse_payload``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from pathlib import Path

import numpy as np

from ingest.imu.samples import counts_to_base64
from ingest.message import Message
from ingest.payloads import MAX_STEPS, SessionEvent, Status, Wellness
from ingest.topics import device_topic
from simulators.athlete import SessionPlan, StepSamples, simulate
from simulators.errors import ScenarioError
from simulators.plan import AthletePlan, drained, plan_scenario
from simulators.pod_signal import INT16_SCALE, pod_signal
from simulators.scenario import Scenario, load_scenario

# Faults a FaultPlan marks a corrupted message with: each one must become a dead letter.
CORRUPTIONS = ("malformed_json", "wrong_type", "missing_field", "nan", "out_of_range", "topic_mismatch", "bad_topic")
IMU_RATE_HZ = 100.0


@dataclass(frozen=True)
class Replay:
    """Messages in event-time order, generated lazily; iterating again yields the same messages.

    ``first_ts``/``last_ts``: the first and last session start or report, ms (for progress bars).
    """

    first_ts: int
    last_ts: int
    _make: Callable[[], Iterator[Message]] = field(repr=False)

    def __iter__(self) -> Iterator[Message]:
        return self._make()


def generate(
    *scenarios: Scenario | str | Path,
    start: date | None = None,
    end: date | None = None,
    seed: int = 0,
    batch_s: float = 1.0,
    batch_steps: int | None = None,
    imu: bool = False,
) -> Replay:
    """The messages of one or more scenarios (objects, shipped names or file paths), merged.

    Day 0 of each scenario falls on ``start``; by default each scenario's last day is
    ``end``, by default yesterday (UTC): a replay looks like recent history and no event
    lies in the future (ingest dead-letters those). Steps are batched by ``batch_s``
    seconds of steps per message, or ``batch_steps`` steps per message when given. With
    ``imu``, foot and shin pods send ``batch_s`` seconds of raw samples per message instead.
    Same arguments, same messages.
    """
    if start is not None and end is not None:
        raise ValueError("give start or end, not both")
    if batch_steps is not None and not 1 <= batch_steps <= MAX_STEPS:
        raise ValueError(f"batch_steps must be 1..{MAX_STEPS}")
    if batch_s <= 0:
        raise ValueError("batch_s must be > 0")
    if not scenarios:
        raise ValueError("no scenario given")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    last_day = end or datetime.now(UTC).date() - timedelta(days=1)
    plans: list[AthletePlan] = []
    for item in scenarios:
        scenario = item if isinstance(item, Scenario) else load_scenario(item)
        day0 = start or last_day - timedelta(days=scenario.length_days - 1)
        plans += plan_scenario(scenario, start=day0, seed=seed)
    keys = [(p.team, p.athlete.id) for p in plans]
    if len(set(keys)) != len(keys):
        raise ScenarioError("two scenarios have an athlete with the same team and id")
    batching = _Batching(batch_ms=batch_s * 1000, steps=batch_steps, imu=imu)
    times = [s.start_ms for p in plans for s in p.sessions] + [w.ts for p in plans for w in p.reports]
    if not times:
        raise ScenarioError("the scenarios have no session and no report")

    def make() -> Iterator[Message]:
        return heapq.merge(*(_athlete_messages(p, batching) for p in plans), key=_EVENT_TIME)

    return Replay(first_ts=min(times), last_ts=max(times), _make=make)


_EVENT_TIME = attrgetter("ts")


@dataclass(frozen=True)
class _Batching:
    batch_ms: float
    steps: int | None
    imu: bool

    def bounds(self, samples: StepSamples) -> list[tuple[int, int]]:
        """[start, stop) index pairs of the batches, each at most MAX_STEPS long."""
        n = len(samples)
        if self.steps is not None:
            cuts = np.arange(self.steps, n, self.steps)
        else:
            window = (samples.ts - samples.ts[0]) // self.batch_ms
            cuts = np.flatnonzero(np.diff(window)) + 1
            cuts = np.union1d(cuts, np.arange(MAX_STEPS, n, MAX_STEPS))
        edges = [0, *cuts.tolist(), n]
        return list(itertools.pairwise(edges))


def _athlete_messages(plan: AthletePlan, batching: _Batching) -> Iterator[Message]:
    seq = itertools.count()  # per device, across sessions
    sessions = itertools.chain.from_iterable(
        _session_messages(plan, session, battery, seq, batching)
        for session, battery in zip(plan.sessions, plan.batteries, strict=True)
    )
    if not plan.reports:
        return sessions  # a merge costs about a microsecond a message
    topic = device_topic(plan.team, plan.athlete.id, plan.athlete.phone, "wellness")
    reports = [Message(topic, _json(w), w.ts) for w in plan.reports]
    return heapq.merge(sessions, reports, key=_EVENT_TIME)


def _session_messages(
    plan: AthletePlan, session: SessionPlan, battery: int, seq: Iterator[int], batching: _Batching
) -> Iterator[Message]:
    athlete, device = plan.athlete, plan.athlete.device

    status_topic, session_topic, steps_topic, imu_topic = (
        device_topic(plan.team, athlete.id, device.id, stream) for stream in ("status", "session", "steps", "imu")
    )

    def status(ts: int, *, online: bool, battery_pct: int) -> Message:
        payload = Status(ts=ts, online=online, battery_pct=battery_pct, firmware=device.firmware)
        return Message(status_topic, _json(payload), ts, retain=True)

    samples = simulate(session, athlete.profile, device)
    start = session.start_ms
    yield status(start - 2000, online=True, battery_pct=battery)
    opened = SessionEvent(
        session_id=session.session_id, event="start", ts=start, activity=session.activity,
        surface=session.surface, shoe_id=session.shoe, placement=device.placement,
    )  # fmt: skip
    yield Message(session_topic, _json(opened), start)
    step_ts = samples.ts.tolist()
    end = step_ts[-1] + 1500
    head = f'{{"session_id":"{session.session_id}","seq":'
    if batching.imu and device.placement in ("foot", "shin"):
        yield from _imu_messages(imu_topic, head, session, plan, samples, seq, batching, end)
    else:
        rows = _step_rows(samples)
        for a, b in batching.bounds(samples):
            body = f'{head}{next(seq)},"steps":[{",".join(rows[a:b])}]}}'
            yield Message(steps_topic, body.encode(), step_ts[b - 1], steps=b - a)
    closed = SessionEvent(
        session_id=session.session_id, event="end", ts=end, duration_s=(end - start) / 1000,
        distance_m=samples.distance_m,
    )  # fmt: skip
    yield Message(session_topic, _json(closed), end)
    yield status(end + 2000, online=False, battery_pct=max(0, round(drained(battery, (end - start) / 60_000))))


def _imu_messages(
    topic: str, head: str, session: SessionPlan, plan: AthletePlan, samples: StepSamples, seq: Iterator[int],
    batching: _Batching, end: int,
) -> Iterator[Message]:  # fmt: skip
    """The pod's raw samples from the session's start to its end, ``batch_s`` seconds a message."""
    device, profile = plan.athlete.device, plan.athlete.profile
    two_footed = session.activity == "jump_rope" and profile.rope_style == "two_feet"
    rng = np.random.default_rng([*session.seed, 0x1A0])
    recording = pod_signal(samples, activity=session.activity, side=device.side, two_footed=two_footed,
                           t0_ms=session.start_ms, end_ms=end, rate_hz=IMU_RATE_HZ, rng=rng)  # fmt: skip
    per_batch = max(1, round(batching.batch_ms * IMU_RATE_HZ / 1000))
    fields = f'"rate_hz":{IMU_RATE_HZ:g},"unit":"g","placement":"{device.placement}","side":"{device.side}"'
    for a in range(0, len(recording.counts), per_batch):
        counts = recording.counts[a : a + per_batch]
        ts = session.start_ms + round(a * 1000 / IMU_RATE_HZ)
        body = f'{head}{next(seq)},"ts":{ts},{fields},"scale":{INT16_SCALE!r},"data":"{counts_to_base64(counts)}"}}'
        yield Message(topic, body.encode(), ts + round((len(counts) - 1) * 1000 / IMU_RATE_HZ))


def _step_rows(samples: StepSamples) -> list[str]:
    """Each step as a JSON object, in the contract's field names, optional fields only when measured."""
    columns: list[Iterable[object]] = [samples.ts.tolist(), np.where(samples.left, "L", "R").tolist()]
    fmt = '{"ts":%d,"foot":"%s","cadence_spm":%.1f'
    columns.append(samples.cadence_spm.tolist())
    for name, spec, values in (
        ("impact_g", "%.2f", samples.impact_g),
        ("elevation_m", "%.1f", samples.elevation_m),
        ("contact_ms", "%d", samples.contact_ms),
    ):
        if values is not None:
            fmt += f',"{name}":{spec}'
            columns.append(values.tolist())
    return list(map((fmt + "}").__mod__, zip(*columns, strict=True)))


def _json(model: SessionEvent | Status | Wellness) -> bytes:
    return model.model_dump_json(exclude_none=True, exclude_unset=True).encode()
