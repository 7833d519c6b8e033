"""Scoring scaled out on PostgreSQL: alert latency with 3 score workers, and the drain of 1, 2 and 3.

**Latency.** The stream of `alert_latency` (N athletes, a message a second each, a live
longest_session at a random second), deployed as docker-compose.yml deploys it: two
`stridewatch ingest` replicas on an MQTT v5 shared subscription storing into PostgreSQL,
and three `stridewatch score` workers folding what they stored, each its own process. A
worker folds a record as soon as nothing before it can still be on its way, and holds it
(5 s at most) only behind a gap (`stridewatch.services.reorder`), so the latency is what ingest, the
feed's poll, the fold and the relay add, plus the waits of the records that met a gap. Then
sharp pain reports: from each report to the athlete's CRITICAL alert.

**Drain.** One backlog of a simulated fleet is stored once in a template database, with
its feed held back in a side table. For each run a copy of it is made, 1, 2 or 3 workers
start and settle their shares of the partitions, then the whole feed is released in one
transaction and the clock runs until every record is folded (``folded``, the processed
log). Alerts go through the relay to a real broker, as in production. The CPU seconds
of the workers and of PostgreSQL per 1,000 records say what more cores would give: the
drain is CPU-bound, so one machine's ceiling is its cores over that cost, and the database
(one for every worker) is the part that does not scale out.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench.alert_latency import run as stream_and_trigger
from bench.core import Benchmark, Context, Metric, Target, end, health, spawn, until
from ingest.records import Records, to_record
from ingest.store import Store
from scoring.schemas import DAY_MS
from stridewatch.broker.local import mosquitto
from stridewatch.services.partitions import LOCK_CLASS

PARTITIONS = 64
WINDOW_S = 5.0  # `stridewatch score --reorder-window`, the default


def _holders(db_url: str) -> dict[int, int]:
    """Partitions held per backend."""
    with psycopg.connect(db_url, autocommit=True) as db:
        rows = db.execute("SELECT pid, count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                          "AND granted GROUP BY pid", (LOCK_CLASS,)).fetchall()  # fmt: skip
    return {int(pid): int(n) for pid, n in rows}


def _fair(held: dict[int, int], workers: int) -> bool:
    share = PARTITIONS // workers
    return (
        len(held) == workers
        and sum(held.values()) == PARTITIONS
        and all(n in (share, share + 1) for n in held.values())
    )


@contextmanager
def _workers(broker_url: str, db_url: str, workdir: Path, count: int, extra: dict[str, list[str]] | None = None
             ) -> Iterator[dict[str, subprocess.Popen[bytes]]]:  # fmt: skip
    """``count`` score workers (and the ``extra`` processes, started first), each owning its fair share."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, argv in (extra or {}).items():
            processes[name] = spawn(workdir, name, *argv)
        for i in range(1, count + 1):
            processes[f"score-{i}"] = spawn(workdir, f"score-{i}", "score", "--db", db_url, "--mqtt-url", broker_url,
                                             "--worker", f"score-{i}", "--partitions", str(PARTITIONS),
                                             "--reorder-window", str(WINDOW_S))  # fmt: skip
        until(lambda: all(health(workdir, n) for n in processes) and _fair(_holders(db_url), count), processes,
               workdir, 90, f"{count} worker(s) running with fair shares")  # fmt: skip
        yield processes
    finally:
        for process in processes.values():
            end(process)


# -- latency ------------------------------------------------------------------------------


def _scaled_out(replicas: int, workers: int, late: list[dict[str, int]]) -> Callable[[str, str, Path], Any]:
    """The deployment for `alert_latency.run`; appends to ``late`` the workers' counts of records folded out of
    their device's order, held behind a gap, and folded past a gap's window."""

    @contextmanager
    def deploy(broker_url: str, db_url: str, workdir: Path) -> Iterator[Callable[[], tuple[int, int]]]:
        ingest = {f"ingest-{i}": ["ingest", "--mqtt-url", broker_url, "--db", db_url, "--client-id", f"ingest-{i}",
                                  "--share-group", "ingest", "--feed"] for i in range(1, replicas + 1)}  # fmt: skip

        def served() -> tuple[int, int]:
            replicas = [health(workdir, name) for name in ingest]
            return sum(h.get("stored", 0) for h in replicas), sum(h.get("reconnects", 0) for h in replicas)

        with _workers(broker_url, db_url, workdir, workers, ingest) as processes:
            yield served
            scores = [health(workdir, name) for name in processes if name.startswith("score")]
            late.append({key: sum(h.get(key, 0) for h in scores) for key in ("late", "gaps", "past_deadline")})

    return deploy


# -- drain --------------------------------------------------------------------------------


def _backlog(db_url: str, athletes: int, days: int) -> int:
    """Store a fleet's records with their feed, then move the feed aside (``feed_backlog``); how many."""
    from simulators import fleet, generate

    now = int(time.time() * 1000)
    with Store(db_url, feed=True) as store:
        store.migrate()
        records = Records()
        for message in generate(fleet(athletes, teams=10, days=days, seed=7), seed=7, batch_steps=50):
            if message.stream == "status":
                continue
            records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=DAY_MS))
            if len(records.ordered) >= 500:
                store.write(records, received_at=now)
                records = Records()
        store.write(records, received_at=now)
        store.query("CREATE TABLE feed_backlog AS SELECT * FROM feed")
        store.query("TRUNCATE feed")
        return int(store.query("SELECT count(*) FROM feed_backlog")[0][0])


def _cpu_s(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of these processes, and of every PostgreSQL process."""
    ours = database = 0.0
    for process in psutil.process_iter(["name"]):
        with suppress(psutil.NoSuchProcess):
            if process.pid in pids or process.info["name"] == "postgres":
                times = process.cpu_times()
                if process.pid in pids:
                    ours += times.user + times.system
                else:
                    database += times.user + times.system
    return ours, database


def _drain(ctx: Context, broker_url: str, template: str, records: int, workers: int, timeout: float
           ) -> dict[str, float]:  # fmt: skip
    from tests.databases import postgres_database

    with ExitStack() as stack:
        db_url = stack.enter_context(postgres_database(template=template))
        workdir = ctx.workdir / f"drain-{workers}-{time.monotonic_ns()}"
        workdir.mkdir()
        processes = stack.enter_context(_workers(broker_url, db_url, workdir, workers))
        pids = [p.pid for p in processes.values()]
        with psycopg.connect(db_url, autocommit=True) as db:
            db.execute("INSERT INTO feed SELECT * FROM feed_backlog")
            released = time.time()
            before = _cpu_s(pids)

            def folded() -> int:
                return int(db.execute("SELECT count(*) FROM folded").fetchone()[0])  # type: ignore[index]

            until(lambda: folded() >= records, processes, workdir, timeout, f"fold of {records:,} records")
            last = int(db.execute("SELECT max(folded_at) FROM folded").fetchone()[0])  # type: ignore[index]
            after = _cpu_s(pids)
    seconds = last / 1000 - released
    return {"records_per_s": records / seconds, "worker_cpu_s": after[0] - before[0],
            "db_cpu_s": after[1] - before[1], "seconds": seconds}  # fmt: skip


# -- the benchmark ------------------------------------------------------------------------


def benchmark(ctx: Context) -> list[Metric]:
    from tests.databases import postgres_database  # PostgreSQL is what is measured: without it, a failure

    athletes, seconds, warmup = ctx.sizes(full=(1000, 120, 60), quick=(200, 40, 25), smoke=(10, 20, 12))
    fleet, days = ctx.sizes(full=(1000, 2), quick=(300, 2), smoke=(20, 1))
    latency: list[dict[str, Any]] = []
    late: list[dict[str, int]] = []
    for r in range(ctx.repeat):
        with postgres_database() as db_url:
            latency.append(stream_and_trigger(athletes=athletes, seconds=seconds, warmup_s=warmup, seed=r, db=db_url,
                                              deploy=_scaled_out(replicas=2, workers=3, late=late)))  # fmt: skip
        ctx.log(f"{athletes} athletes, 2 ingest replicas, 3 score workers: alert p50 {latency[-1]['p50_ms']:.0f} ms, "
                f"p99 {latency[-1]['p99_ms']:.0f} ms")  # fmt: skip
    drains: dict[int, list[dict[str, float]]] = {1: [], 2: [], 3: []}
    (ctx.workdir / "drain-broker").mkdir()
    with postgres_database() as template_url, mosquitto(ctx.workdir / "drain-broker") as broker:
        records = _backlog(template_url, fleet, days)
        template = template_url.rsplit("/", 1)[1]
        for _ in range(ctx.repeat):
            for workers in drains:
                drains[workers].append(_drain(ctx, broker.url, template, records, workers, timeout=600))
                d = drains[workers][-1]
                ctx.log(f"drain of {records:,} records by {workers} worker(s): {d['seconds']:.1f} s, "
                        f"{d['records_per_s']:,.0f} records/s; CPU {d['worker_cpu_s']:.1f} s workers, "
                        f"{d['db_cpu_s']:.1f} s PostgreSQL")  # fmt: skip
    return _figures(latency, late, drains, athletes, records)


def _figures(latency: list[dict[str, Any]], late: list[dict[str, int]], drains: dict[int, list[dict[str, float]]],
             athletes: int, records: int) -> list[Metric]:  # fmt: skip
    def rate(workers: int) -> list[float]:
        return [d["records_per_s"] for d in drains[workers]]

    def per_1k(key: str) -> list[float]:
        return [d[key] / records * 1000 for runs in drains.values() for d in runs]

    cores = os.cpu_count() or 1
    about = f"{athletes} athletes, 2 ingest replicas, 3 score workers, at most {WINDOW_S:g} s behind a gap"
    return [
        Metric(
            "scale_out_alert_latency_p50_ms",
            f"publish -> alert, p50 ({about})",
            "ms",
            [r["p50_ms"] for r in latency if r["p50_ms"] is not None],
        ),
        Metric(
            "scale_out_alert_latency_p99_ms",
            "publish -> alert, p99",
            "ms",
            [r["p99_ms"] for r in latency if r["p99_ms"] is not None],
            target=Target(1000, "below"),
            note="stretch: 500 ms",
        ),
        Metric(
            "scale_out_alert_latency_missed",
            "triggers without an alert within 30 s",
            "",
            [r["missed"] for r in latency],
        ),
        Metric(
            "scale_out_late_records",
            "records folded after a later record of their device",
            "",
            [float(n["late"]) for n in late],
        ),
        Metric(
            "scale_out_gaps",
            "records held behind a gap (replicas committed out of order)",
            "",
            [float(n["gaps"]) for n in late],
        ),
        Metric(
            "scale_out_past_deadline",
            f"records folded when their {WINDOW_S:g} s wait ended, the gap unfilled",
            "",
            [float(n["past_deadline"]) for n in late],
        ),
        Metric(
            "scale_out_pain_to_critical_p99_ms",
            "a sharp pain report -> its CRITICAL alert, p99",
            "ms",
            [r["pain_p99_ms"] for r in latency if r["pain_p99_ms"] is not None],
            target=Target(2000, "below"),
        ),
        *[
            Metric(
                f"scale_out_drain_{n}_records_per_s",
                f"drain of {records:,} records by {n} worker(s)",
                "records/s",
                rate(n),
            )
            for n in drains
        ],
        *[
            Metric(
                f"scale_out_drain_{n}_vs_1",
                f"{n} workers / 1 worker, on {cores} cores",
                "x",
                [a / b for a, b in zip(rate(n), rate(1), strict=True)],
                target=Target(1.5, "above") if n == 2 else None,
            )
            for n in (2, 3)
        ],
        Metric(
            "scale_out_worker_cpu_s_per_1k", "score workers' CPU per 1,000 records folded", "s", per_1k("worker_cpu_s")
        ),
        Metric("scale_out_db_cpu_s_per_1k", "PostgreSQL's CPU per 1,000 records folded", "s", per_1k("db_cpu_s")),
    ]


BENCHMARK = Benchmark(
    "scale_out", "score workers on PostgreSQL: alert latency at 3 workers, drain of 1, 2, 3", benchmark
)
