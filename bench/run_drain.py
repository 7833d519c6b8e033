"""`stridewatch run` against `stridewatch ingest` on one backlog of team traffic: does scoring keep up with storing?

Traffic: a simulated team over eight weeks (a fleet of athletes drawn from the seed stories,
with their sessions, pain reports, and 50-step messages), published once at QoS 1 to a
private Mosquitto that queues it for two persistent sessions. Then `stridewatch ingest`
and `stridewatch run` drain it, each in its own process on its own SQLite file, one after
the other, timed from the process's launch until its last batch is handled (for `run`:
stored, scored, alerts and checkpoints committed; the health file's
``last_batch_done_at``). ``run_vs_ingest_ratio`` is run's rate over ingest's (target
>= 0.8, issue 23): what scoring costs on top of storing. A drain that does not finish within its
deadline is reported as a failure, never waited on.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from bench.core import Benchmark, Context, Metric, Target, end
from bench.ingest import _broker, prime, publish_backlog
from scoring.schemas import DAY_MS


def _traffic(athletes: int, days: int, seed: int) -> tuple[list[tuple[str, bytes]], dict[str, int]]:
    from simulators import fleet, generate

    messages = [
        m
        for m in generate(fleet(athletes, teams=2, days=days, seed=seed), seed=seed, batch_steps=50)
        if m.stream != "status"
    ]
    counts = {
        "messages": len(messages),
        "steps": sum(m.steps for m in messages),
        "sessions": sum(m.stream == "session" and b'"start"' in m.payload for m in messages),
        "reports": sum(m.stream == "wellness" for m in messages),
        "days": (max(m.ts for m in messages) - min(m.ts for m in messages)) // DAY_MS,
    }
    return [(m.topic, m.payload) for m in messages], counts


def _drain(ctx: Context, command: str, url: str, client_id: str, expect: int, timeout: float) -> tuple[float, float]:
    """Seconds from launching ``stridewatch COMMAND`` until it has handled ``expect`` messages, and
    the CPU seconds it used (on a shared machine the wall clock also measures the neighbours)."""
    health = ctx.workdir / f"health-{client_id}.json"
    db = f"sqlite:///{ctx.workdir / f'{client_id}.db'}"
    argv = [sys.executable, "-m", "stridewatch", command, "--mqtt-url", url, "--db", db, "--client-id", client_id,
            "--health-file", str(health)]  # fmt: skip
    log = ctx.workdir / f"{client_id}.log"
    with log.open("wb") as errors:
        launched = time.time()
        process = subprocess.Popen(argv, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL,
                                   stderr=errors)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        record: dict[str, Any] = {}
        while record.get("received", 0) < expect or (record.get("last_batch_done_at") or 0) < record.get(
            "last_commit_at", 1
        ):
            if process.poll() is not None:
                raise RuntimeError(f"stridewatch {command} exited {process.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"stridewatch {command} handled {record.get('received', 0)} of {expect} messages in {timeout:g} s: "
                    "it does not keep up"
                )
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):  # not yet, or mid-write
                record = json.loads(health.read_text())
            time.sleep(0.1)
        times = psutil.Process(process.pid).cpu_times()
        return float(record["last_batch_done_at"]) - launched, times.user + times.system
    finally:
        end(process)


def run(ctx: Context) -> list[Metric]:
    athletes, days = ctx.sizes(full=(24, 56), quick=(10, 42), smoke=(3, 14))
    timeout = ctx.sizes(full=900.0, quick=300.0, smoke=120.0)
    ingest_rates, run_rates, ratios, cpu_ratios = [], [], [], []
    for repeat in range(ctx.repeat):
        messages, counts = _traffic(athletes, days, seed=repeat)
        ctx.log(f"traffic: {counts}")
        with _broker(ctx, f"broker-{repeat}") as broker:
            clients = {name: f"drain-{name}-{repeat}" for name in ("ingest", "run")}
            for client_id in clients.values():
                prime(broker.url, client_id)
            publish_backlog(broker.url, messages, timeout)
            drained = {
                name: _drain(ctx, name, broker.url, cid, len(messages), timeout) for name, cid in clients.items()
            }
        (ingest_s, ingest_cpu), (run_s, run_cpu) = drained["ingest"], drained["run"]
        ingest_rates.append(len(messages) / ingest_s)
        run_rates.append(len(messages) / run_s)
        ratios.append(ingest_s / run_s)
        cpu_ratios.append(ingest_cpu / run_cpu)
        ctx.log(f"{len(messages):,} messages: ingest {ingest_s:.1f} s ({ingest_cpu:.1f} s CPU), "
                f"run {run_s:.1f} s ({run_cpu:.1f} s CPU)")  # fmt: skip
    about = f"{athletes} athletes over {days} days"
    return [
        Metric("run_drain_msgs_per_s", f"`stridewatch run` draining a backlog ({about}), SQLite", "msg/s", run_rates),
        Metric("ingest_drain_msgs_per_s", "`stridewatch ingest` on the same backlog", "msg/s", ingest_rates),
        Metric("run_vs_ingest_ratio", "run's rate / ingest's", "x", ratios, target=Target(0.8, "above")),
        Metric(
            "run_vs_ingest_cpu_ratio",
            "ingest's CPU seconds / run's (less sensitive to the neighbours)",
            "x",
            cpu_ratios,
        ),
    ]


BENCHMARK = Benchmark("run_drain", "`run` against `ingest` draining one backlog of team traffic", run)
