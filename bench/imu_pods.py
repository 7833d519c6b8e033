"""Raw pods in real time: how many 100 Hz pods one `stridewatch run` process keeps up with.

Method (a private Mosquitto, SQLite, ``python -m stridewatch run`` in its own process: the
service as deployed, with ingest, detection in the store's transaction, the live
evaluator, scoring and alerts):

1. Pods stream their shin pod's raw signal, one ``imu`` batch a second (100 samples,
   base64 int16, as pods send over BLE), paced in real time and spread over each second.
   The signal is the simulators' pod model of a run, a different stretch for each pod.
2. Pods join a few a second (``JOIN_S`` apart): a pod's first steps open a live session,
   which reads the athlete's history and scores them once (about 50 ms of CPU), so a
   session start is not steady-state work, and athletes do not all start at one instant.
3. At each level of pods, once all have joined and the service has caught up (or
   ``SETTLE_S`` has passed), ``MEASURED_S`` seconds are measured: the service keeps up
   when the raw batches committed to its database (read every 0.2 s) stay within
   ``MAX_LAG_S`` of those sent. Then more pods join, up to the next level.

``imu_pods_realtime`` is the largest level kept up with; the first level missed ends the
run, which then waits at most ``DRAIN_S`` for the backlog: a saturated service is reported
as such, never waited on. ``imu_pods_per_core`` is the same load-independently: batches
committed per CPU-second of the service over the measured seconds (this machine is shared,
so wall-clock capacity depends on its load). The steps committed are checked against the
detector run offline over each pod's batches.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from bench.core import Benchmark, Context, Metric, Target, end

RATE_HZ = 100
MAX_LAG_S = 2.0
JOIN_S = 0.08
SETTLE_S = 60
DRAIN_S = 15.0
LEVELS = {"full": (500, 1000, 1500, 2000, 3000), "quick": (250, 1000), "smoke": (20,)}
MEASURED_S = {"full": 30, "quick": 15, "smoke": 5}
POOL_S = 600  # seconds of signal, shared round the pods


@dataclass
class Level:
    pods: int
    lags: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    batches: int = 0

    @property
    def kept_up(self) -> bool:
        return bool(self.lags) and max(self.lags) <= MAX_LAG_S


def _pool() -> np.ndarray:
    """A run's raw pod signal, int16 counts, ``POOL_S`` long (the simulators' model)."""
    from datetime import date

    from simulators.athlete import simulate
    from simulators.plan import plan_scenario
    from simulators.pod_signal import pod_signal
    from simulators.scenario import load_scenario

    (plan,) = plan_scenario(load_scenario("steady_runner"), start=date(2026, 3, 2), seed=1)
    session = plan.sessions[0]
    steps = simulate(session, plan.athlete.profile, plan.athlete.device)
    recording = pod_signal(steps, activity="run", side="L", two_footed=False, t0_ms=session.start_ms,
                           end_ms=int(steps.ts[-1]), rate_hz=RATE_HZ, rng=np.random.default_rng(1))  # fmt: skip
    start = 60 * RATE_HZ  # past the lead-in and the first strides
    return recording.counts[start : start + POOL_S * RATE_HZ]


def _offline_steps(pool: np.ndarray, offset_s: int, seconds: int) -> int:
    """The steps the detector finds offline in a pod's batches (not ended: as the service holds them)."""
    from ingest.imu import Detector
    from simulators.pod_signal import INT16_SCALE

    xyz = np.roll(pool, -offset_s * RATE_HZ, axis=0)[: seconds * RATE_HZ] * INT16_SCALE
    return len(Detector.start("shin", "L").feed(0, RATE_HZ, xyz))


class _Service:
    """``stridewatch run`` in its own process on a private broker, and how far its commits are behind."""

    def __init__(self, folder: Path) -> None:
        from stridewatch.broker.local import mosquitto

        (folder / "broker").mkdir(parents=True)
        self.folder, self.db = folder, folder / "run.db"
        self._broker_cm = mosquitto(folder / "broker")
        self.broker = self._broker_cm.__enter__()
        self._log = (folder / "run.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stridewatch", "-v", "run", "--mqtt-url", self.broker.url, "--db",
             f"sqlite:///{self.db}", "--client-id", "bench-imu"],
            cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=self._log,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.stored = 0
        self._stop = threading.Event()
        self._wait_for("connected", 30)
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def cpu_s(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"stridewatch run exited {self.process.returncode}: {self.tail()}")

    def tail(self) -> str:
        return (self.folder / "run.log").read_text(errors="replace")[-2000:]

    def _wait_for(self, word: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while word not in (self.folder / "run.log").read_text(errors="replace"):
            self.alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"stridewatch run logged no {word!r} within {timeout:g} s: {self.tail()}")
            time.sleep(0.1)

    def _watch(self) -> None:
        """Raw batches committed: the table's last rowid (nothing is deleted), read without blocking the writer."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, check_same_thread=False)
        try:
            while not self._stop.is_set():
                with contextlib.suppress(sqlite3.OperationalError):  # not yet created, or busy a moment
                    self.stored = connection.execute("SELECT coalesce(max(rowid), 0) FROM imu_batches").fetchone()[0]
                self._stop.wait(0.2)
        finally:
            connection.close()

    def close(self) -> None:
        self._stop.set()
        end(self.process, grace_s=30)
        self._log.close()
        self._broker_cm.__exit__(None, None, None)


def _stream(ctx: Context, service: _Service, levels: tuple[int, ...], measured_s: int, pool: np.ndarray) -> list[Level]:
    """Pods join and stream until a level is missed or the last is measured; the levels' figures."""
    from ingest.imu.samples import counts_to_base64
    from ingest.mqtt import BrokerAddress, connect_blocking, make_client
    from simulators.pod_signal import INT16_SCALE

    address = BrokerAddress.parse(service.broker.url)
    client = make_client(address, client_id="bench-imu-pods")
    client.max_inflight_messages_set(0)
    connect_blocking(client, address)
    frames = np.concatenate((pool, pool))  # each pod starts at its own second and wraps round
    t0 = int(time.time() * 1000)  # event time: each batch is stamped as it is sent, nothing lies ahead
    joined: list[int] = []  # the second each pod joined
    sent = 0
    out: list[Level] = []
    begun = time.monotonic()
    second = 0
    try:
        for target in levels:
            level = Level(target)
            out.append(level)
            phase, phase_start, cpu_from, stored_from = "join", second, 0.0, 0
            while True:
                lag = (sent - service.stored) / max(1, len(joined))
                if phase == "join" and len(joined) >= target:
                    phase, phase_start = "settle", second
                if phase == "settle" and (lag <= MAX_LAG_S or second - phase_start >= SETTLE_S):
                    phase, phase_start, cpu_from, stored_from = "measure", second, service.cpu_s(), service.stored
                if phase == "measure":
                    if second - phase_start == measured_s:
                        level.cpu_s, level.batches = service.cpu_s() - cpu_from, service.stored - stored_from
                        break
                    level.lags.append(lag)
                joining = len(joined) + max(1, round(1 / JOIN_S)) if phase == "join" else len(joined)
                joined += [second] * (min(target, joining) - len(joined))
                active = len(joined)
                for p in range(active):
                    time.sleep(max(0.0, begun + second + p / active - time.monotonic()))
                    a = ((p * 7919 + second - joined[p]) % POOL_S) * RATE_HZ
                    data = counts_to_base64(frames[a : a + RATE_HZ])
                    body = (f'{{"session_id":"run","seq":{second - joined[p]},"ts":{t0 + second * 1000},"rate_hz":{RATE_HZ},'
                            f'"unit":"g","placement":"shin","side":"L","scale":{INT16_SCALE!r},"data":"{data}"}}')  # fmt: skip
                    client.publish(f"stridewatch/v1/bench/p{p:05d}/pod/imu", body, qos=1)
                    sent += 1
                service.alive()
                second += 1
            ctx.log(f"{target:5d} pods: {'kept up' if level.kept_up else 'fell behind'}, worst lag "
                    f"{max(level.lags):.1f} s; {level.batches / level.cpu_s if level.cpu_s else 0:,.0f} batches "
                    "per CPU-second")  # fmt: skip
            if not level.kept_up:
                break
        deadline = time.monotonic() + DRAIN_S  # the backlog, or what a saturated service still owes
        while service.stored < sent and time.monotonic() < deadline:
            time.sleep(0.1)
        if service.stored < sent:
            ctx.log(
                f"saturated: {sent - service.stored:,} of {sent:,} batches uncommitted {DRAIN_S:g} s after the last"
            )
    finally:
        client.disconnect()
        client.loop_stop()
    expected = sum(_offline_steps(pool, (p * 7919) % POOL_S, second - joined[p]) for p in range(len(joined)))
    if service.stored >= sent:
        from ingest.store import Store

        with Store(f"sqlite:///{service.db}") as store:
            steps = sum(s.steps for s in store.stats())
        if steps != expected:
            raise RuntimeError(f"{steps:,} steps committed; the detector offline finds {expected:,}")
        ctx.log(f"{steps:,} steps committed, as the detector finds offline")
    return out


def run(ctx: Context) -> list[Metric]:
    pool = _pool()
    realtime: list[float] = []
    per_core: list[float] = []
    for k in range(ctx.repeat):
        service = _Service(ctx.workdir / f"run-{k}")
        try:
            levels = _stream(ctx, service, LEVELS[ctx.scale], MEASURED_S[ctx.scale], pool)
        finally:
            service.close()
        realtime.append(float(max((lv.pods for lv in levels if lv.kept_up), default=0)))
        measured = [lv for lv in levels if lv.cpu_s]
        per_core.append(sum(lv.batches for lv in measured) / sum(lv.cpu_s for lv in measured) if measured else 0.0)
    return [
        Metric("imu_pods_realtime", "100 Hz pods one `stridewatch run` keeps up with (broker to committed steps)",
               "pods", realtime, target=Target(1000, "above") if ctx.scale == "full" else None,
               note=f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"),
        Metric("imu_pods_per_core", "the same per CPU-second of the service: pods one free core keeps up with",
               "pods", per_core),
    ]  # fmt: skip


BENCHMARK = Benchmark(
    "imu_pods", "raw 100 Hz pods in real time through `stridewatch run`: broker to committed steps", run
)
