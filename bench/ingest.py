"""Ingest throughput and memory: a backlog drained by the consumer and by no-op subscribers.

Method (each repeat on a fresh private Mosquitto, ``stridewatch.broker.mosquitto``: no
queue limit, persistence on):

1. Persistent sessions (fixed client ids, clean start, session expiry) subscribe at QoS 1
   to ``stridewatch/v1/+/+/+/+`` and disconnect: the consumer on SQLite, the consumer on
   PostgreSQL, a no-op paho subscriber that acknowledges after each batch like the
   consumer (manual ack, Receive Maximum = batch size), a no-op paho subscriber that
   auto-acknowledges, ``mosquitto_sub``, and ``python -m stridewatch ingest`` (for memory).
2. A backlog of 50-step messages is published once, at QoS 1: the broker queues it for
   every session, so all of them drain the same traffic in the same run.
3. Each one is started in turn, in its own process, and timed from its start until it has
   it all (the consumer: ``health.stored``, i.e. committed; no-op: counted;
   ``mosquitto_sub -C N``: exited). Rate = steps / that time.

Traffic: ``athletes`` devices streaming concurrently (round-robin), every message 50
steps, payloads taken from the device simulator (``simulators.generate``) with per-device
sequence numbers. Memory: the RSS of ``python -m stridewatch ingest`` (process tree,
psutil or /proc) sampled every 20 ms while a 1,000,000-step backlog drains. Growth: the
same with 1, 100 and 1000 streaming athletes; slope of log(rate) and log(RSS) on
log(athletes) (0: independent of the number of athletes).

Run as ``python -m bench.ingest --drain KIND ...`` it is one draining process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.core import Benchmark, Context, Metric, PeakSampler, Target, end, slope

STEPS_PER_MESSAGE = 50
BATCH = 500  # the consumer's default batch, also its Receive Maximum
FILTER = "stridewatch/v1/+/+/+/+"
FULL = {"steps": 1_000_000, "athletes": 100, "growth": (1, 100, 1000), "timeout": 300.0}
QUICK = {"steps": 40_000, "athletes": 20, "growth": (1, 20, 100), "timeout": 120.0}
SMOKE = {"steps": 2_500, "athletes": 5, "growth": (5,), "timeout": 60.0}


# -- traffic ----------------------------------------------------------------------------

_SEQ = re.compile(rb'"seq":\d+')
_SESSION = re.compile(rb'"session_id":"[^"]*"')


def traffic(athletes: int, steps: int, *, seed: int = 0) -> tuple[list[tuple[str, bytes]], int]:
    """``steps // 50`` messages of 50 steps from ``athletes`` devices, interleaved; and their steps.

    Payloads are 50-step batches from the simulator, re-addressed to each device with its
    own sequence numbers (the store's unique key) and a new session every 120 messages.
    """
    from simulators import fleet, generate

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    replay = generate(fleet(8, days=3, seed=seed), end=yesterday, seed=seed, batch_steps=STEPS_PER_MESSAGE)
    pool = [m.payload for m in replay if m.stream == "steps" and m.steps == STEPS_PER_MESSAGE]
    if not pool:
        raise RuntimeError("the simulator gave no 50-step message")
    wanted = steps // STEPS_PER_MESSAGE
    out: list[tuple[str, bytes]] = []
    k = 0
    while len(out) < wanted:
        for i in range(athletes):
            payload = _SEQ.sub(b'"seq":%d' % k, pool[(i * 7919 + k) % len(pool)], count=1)
            payload = _SESSION.sub(b'"session_id":"s-bench-%d"' % (k // 120), payload, count=1)
            out.append((f"stridewatch/v1/team-{i % 10:02d}/a-{i:05d}/pod-1/steps", payload))
            if len(out) == wanted:
                break
        k += 1
    return out, len(out) * STEPS_PER_MESSAGE


def publish_backlog(url: str, messages: list[tuple[str, bytes]], timeout: float) -> float:
    """Publish at QoS 1, wait for every PUBACK (``timeout`` s in all at most); messages per second."""
    from ingest.mqtt import BrokerAddress, connect_blocking, make_client

    address = BrokerAddress.parse(url)
    client = make_client(address, client_id=f"bench-pub-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    connect_blocking(client, address)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    pending: list[Any] = []  # paho's MQTTMessageInfo

    def acknowledged() -> None:
        for info in pending:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError(f"the broker had not acknowledged the backlog after {timeout:g} s")
        pending.clear()

    try:
        for topic, payload in messages:
            pending.append(client.publish(topic, payload, qos=1))
            if len(pending) >= 2000:
                acknowledged()
        acknowledged()
    finally:
        client.disconnect()
        client.loop_stop()
    return len(messages) / (time.perf_counter() - started)


def prime(url: str, client_id: str) -> None:
    """Create a persistent session subscribed at QoS 1 to the device streams, then leave."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    from ingest.mqtt import BrokerAddress, connect_blocking, make_client

    address = BrokerAddress.parse(url)
    client = make_client(address, client_id=client_id)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 24 * 3600
    connect_blocking(client, address, clean_start=True, properties=props)
    client.subscribe(FILTER, options=SubscribeOptions(qos=1))
    if not subscribed.wait(10):
        raise TimeoutError(f"no SUBACK for {client_id}")
    client.disconnect()
    client.loop_stop()


# -- draining processes -----------------------------------------------------------------


def _drain_consumer(args: argparse.Namespace) -> dict[str, Any]:
    from ingest.consumer import Consumer, ConsumerConfig
    from ingest.store import Store

    consumer = Consumer(ConsumerConfig(mqtt_url=args.url, db_url=args.db, client_id=args.client_id, batch_size=BATCH))
    deadline = time.monotonic() + args.timeout
    with PeakSampler() as rss:
        started = time.perf_counter()
        consumer.start()
        while consumer.health.stored + consumer.health.dead_letters < args.expect:
            if time.monotonic() > deadline:
                raise TimeoutError(f"stored {consumer.health.stored} of {args.expect} in {args.timeout} s")
            time.sleep(0.002)
        seconds = time.perf_counter() - started
    consumer.stop()
    with Store(args.db) as store:
        stats = store.stats()
    return {
        "seconds": seconds,
        "received": consumer.health.stored,
        "dead_letters": consumer.health.dead_letters,
        "stored_steps": sum(s.steps for s in stats),
        "stored_messages": sum(s.messages for s in stats),
        "peak_rss_mb": rss.peak,
    }


def _drain_noop(args: argparse.Namespace, *, manual: bool) -> dict[str, Any]:
    """A paho v5 subscriber that only counts: acks in batches like the consumer, or auto-acks."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    from ingest.inbox import Inbox
    from ingest.mqtt import BrokerAddress, Loop, connect_blocking, make_client
    from ingest.netloop import NetworkLoop

    address = BrokerAddress.parse(args.url)
    client = make_client(address, client_id=args.client_id, manual_ack=manual)
    count = [0]
    done = threading.Event()
    network: Loop = client

    if manual:
        # The consumer's pattern without validation or storage: its inbox and network loop, batches acknowledged.
        inbox = Inbox(BATCH)
        reader = network = NetworkLoop(client, can_read=inbox.has_room, name="noop-mqtt")

        def on_message(_c: Any, _u: Any, msg: Any) -> None:
            inbox.put(msg.mid, msg.qos, msg.topic, bytes(msg.payload))

        def work() -> None:
            while not done.is_set():
                batch = inbox.take(BATCH, wait_s=0.2, linger_s=0.02)
                if batch and inbox.done(batch, client.ack):
                    reader.wake()
                count[0] += len(batch)
                if count[0] >= args.expect:
                    done.set()

        def on_disconnect(*_: Any) -> None:
            inbox.connection_lost()

        client.on_disconnect = on_disconnect
        threading.Thread(target=work, daemon=True).start()
    else:

        def on_message(_c: Any, _u: Any, msg: Any) -> None:
            count[0] += 1
            if count[0] >= args.expect:
                done.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(FILTER, options=SubscribeOptions(qos=1))
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = BATCH
    props.SessionExpiryInterval = 24 * 3600
    with PeakSampler() as rss:
        started = time.perf_counter()
        connect_blocking(client, address, loop=network, clean_start=False, properties=props)
        if not done.wait(args.timeout):
            raise TimeoutError(f"received {count[0]} of {args.expect} in {args.timeout} s")
        seconds = time.perf_counter() - started
    client.disconnect()
    network.loop_stop()
    return {"seconds": seconds, "received": count[0], "peak_rss_mb": rss.peak}


def _spawn_drain(ctx: Context, kind: str, *, url: str, client_id: str, expect: int, timeout: float,
                 db: str | None = None) -> dict[str, Any]:  # fmt: skip
    out = ctx.workdir / f"drain-{client_id}.json"
    argv = [sys.executable, "-m", "bench.ingest", "--drain", kind, "--url", url, "--client-id", client_id,
            "--expect", str(expect), "--timeout", str(timeout), "--out", str(out)]  # fmt: skip
    if db:
        argv += ["--db", db]
    done = subprocess.run(argv, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
                          timeout=timeout + 60)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{kind} drain failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def _mosquitto_sub(url: str, client_id: str, expect: int, timeout: float) -> dict[str, Any]:
    """``mosquitto_sub -q 1 -C N`` resuming its persistent session: seconds until it exits."""
    from ingest.mqtt import BrokerAddress

    binary = shutil.which("mosquitto_sub")
    if binary is None:
        raise FileNotFoundError("mosquitto_sub (Debian: mosquitto-clients)")
    address = BrokerAddress.parse(url)
    argv = [binary, "-h", address.host, "-p", str(address.port), "-V", "5", "-i", client_id, "-c",
            "-x", str(24 * 3600), "-q", "1", "-t", FILTER, "-C", str(expect)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - started
    lines = done.stdout.count(b"\n")
    if done.returncode != 0 or lines < expect:
        raise RuntimeError(f"mosquitto_sub: {lines} of {expect} lines, exit {done.returncode}: {done.stderr[-500:]!r}")
    return {"seconds": seconds, "received": lines}


def _cli_drain(ctx: Context, url: str, client_id: str, expect: int, timeout: float) -> dict[str, Any]:
    """``python -m stridewatch ingest`` on SQLite, its RSS sampled every 20 ms until it has everything."""
    health = ctx.workdir / f"health-{client_id}.json"
    db = f"sqlite:///{ctx.workdir / f'cli-{client_id}.db'}"
    argv = [sys.executable, "-m", "stridewatch", "ingest", "--mqtt-url", url, "--db", db, "--client-id", client_id,
            "--health-file", str(health)]  # fmt: skip
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    log = ctx.workdir / f"cli-{client_id}.log"
    stored = 0
    with log.open("wb") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=Path(__file__).resolve().parent.parent, env=env,
                                   stdout=subprocess.DEVNULL, stderr=errors)  # fmt: skip
    try:
        with PeakSampler(process.pid, interval=0.02) as rss:
            deadline = time.monotonic() + timeout
            while stored < expect:
                if process.poll() is not None:
                    raise RuntimeError(f"stridewatch ingest exited {process.returncode}: {log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"stridewatch ingest stored {stored} of {expect} in {timeout} s")
                with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):  # not yet, or mid-write
                    stored = json.loads(health.read_text()).get("stored", 0)
                time.sleep(0.05)
            seconds = time.perf_counter() - started
    finally:
        end(process)
    return {"seconds": seconds, "peak_rss_mb": rss.peak, "rss_samples": rss.samples}


# -- the benchmark ----------------------------------------------------------------------


@contextmanager
def _broker(ctx: Context, name: str) -> Iterator[Any]:
    from stridewatch.broker.local import mosquitto

    folder = ctx.workdir / name
    folder.mkdir()
    with mosquitto(folder) as broker:
        yield broker


@contextmanager
def _postgres(ctx: Context) -> Iterator[str | None]:
    try:
        from tests.databases import postgres_database

        with postgres_database() as url:
            yield url
    except (ImportError, RuntimeError) as exc:  # no server: the SQLite figures still stand
        ctx.log(f"[yellow]PostgreSQL skipped[/]: {exc}")
        yield None


def _round(ctx: Context, tag: str, messages: list[tuple[str, bytes]], steps: int, timeout: float, *,
           postgres: bool, noop: bool, cli: bool) -> dict[str, dict[str, Any]]:  # fmt: skip
    """One backlog published once and drained by each subscriber in turn."""
    n = len(messages)
    out: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        broker = stack.enter_context(_broker(ctx, tag))
        pg = stack.enter_context(_postgres(ctx)) if postgres else None
        sessions = {"sqlite": f"{tag}-sqlite"}
        if pg:
            sessions["postgresql"] = f"{tag}-pg"
        if noop:
            sessions |= {"noop_manual": f"{tag}-noop-manual", "noop_auto": f"{tag}-noop-auto",
                         "mosquitto_sub": f"{tag}-mosquitto-sub"}  # fmt: skip
        if cli:
            sessions["cli"] = f"{tag}-cli"
        for client_id in sessions.values():
            prime(broker.url, client_id)
        rate = publish_backlog(broker.url, messages, timeout)
        ctx.log(f"{tag}: published {n:,} messages ({steps:,} steps) at {rate:,.0f} msg/s; draining")
        for kind, client_id in sessions.items():
            if kind == "sqlite":
                db = f"sqlite:///{ctx.workdir / f'{client_id}.db'}"
                figures = _spawn_drain(ctx, "consumer", url=broker.url, client_id=client_id, expect=n, db=db,
                                       timeout=timeout)  # fmt: skip
            elif kind == "postgresql":
                figures = _spawn_drain(ctx, "consumer", url=broker.url, client_id=client_id, expect=n, db=pg,
                                       timeout=timeout)  # fmt: skip
            elif kind in ("noop_manual", "noop_auto"):
                figures = _spawn_drain(ctx, kind.replace("_", "-"), url=broker.url, client_id=client_id, expect=n,
                                       timeout=timeout)  # fmt: skip
            elif kind == "mosquitto_sub":
                figures = _mosquitto_sub(broker.url, client_id, n, timeout)
            else:
                figures = _cli_drain(ctx, broker.url, client_id, n, timeout)
            figures["steps_per_s"] = steps / figures["seconds"]
            if kind in ("sqlite", "postgresql") and figures["stored_steps"] != steps:
                raise RuntimeError(f"{kind}: stored {figures['stored_steps']:,} steps of {steps:,}")
            out[kind] = figures
            extra = f", peak RSS {figures['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in figures else ""
            ctx.log(f"  {kind:14s} {figures['seconds']:6.2f} s  {figures['steps_per_s']:>12,.0f} steps/s{extra}")
    return out


def run(ctx: Context) -> list[Metric]:
    size = ctx.sizes(FULL, QUICK, SMOKE)
    athletes, steps_wanted, timeout = size["athletes"], size["steps"], size["timeout"]
    messages, steps = traffic(athletes, steps_wanted)
    rounds = [
        _round(ctx, f"r{r}", messages, steps, timeout, postgres=True, noop=True, cli=True) for r in range(ctx.repeat)
    ]

    def samples(kind: str, key: str = "steps_per_s") -> list[float]:
        return [r[kind][key] for r in rounds if kind in r]

    sqlite, noop_manual, noop_auto = samples("sqlite"), samples("noop_manual"), samples("noop_auto")
    ceiling = [max(m, a) for m, a in zip(noop_manual, noop_auto, strict=True)]
    label = f"{steps:,} steps, {athletes} athletes"
    metrics = [
        Metric("ingest_steps_per_s", f"consumer -> SQLite, committed ({label})", "steps/s", sqlite,
               target=Target(200_000, "above")),
        Metric("ingest_postgres_steps_per_s", "consumer -> PostgreSQL, committed", "steps/s", samples("postgresql")),
        Metric("ingest_noop_manual_steps_per_s", "no-op paho, ack after batch (consumer's pattern)", "steps/s",
               noop_manual),
        Metric("ingest_noop_auto_steps_per_s", "no-op paho, auto-ack QoS 1", "steps/s", noop_auto),
        Metric("ingest_mosquitto_sub_steps_per_s", "mosquitto_sub -q 1 -C N (C)", "steps/s", samples("mosquitto_sub")),
        Metric("ingest_noop_ratio", "SQLite consumer / the faster no-op paho subscriber", "x",
               [s / c for s, c in zip(sqlite, ceiling, strict=True)], target=Target(0.7, "above")),
        Metric("ingest_noop_manual_ratio", "SQLite consumer / no-op with the same ack pattern", "x",
               [s / c for s, c in zip(sqlite, noop_manual, strict=True)]),
        Metric("ingest_postgres_noop_ratio", "PostgreSQL consumer / the faster no-op paho subscriber", "x",
               [s / c for s, c in zip(samples("postgresql"), ceiling, strict=False)]),
        Metric("ingest_mosquitto_sub_ratio", "SQLite consumer / mosquitto_sub", "x",
               [s / m for s, m in zip(sqlite, samples("mosquitto_sub"), strict=False)]),
        Metric("ingest_peak_rss_mb", f"peak RSS of `stridewatch ingest` draining {steps:,} steps", "MB",
               samples("cli", "peak_rss_mb"), target=Target(250, "below")),
        Metric("ingest_consumer_peak_rss_mb", "peak RSS of the drain process (consumer, SQLite)", "MB",
               samples("sqlite", "peak_rss_mb")),
    ]  # fmt: skip

    # Growth with the number of athletes streaming at once: same steps, more devices.
    rates, rss = {}, {}
    for n in size["growth"]:
        if n == athletes:
            rates[n] = min(sqlite, key=lambda x: abs(x - sorted(sqlite)[len(sqlite) // 2]))
            rss[n] = sorted(samples("cli", "peak_rss_mb"))[len(rounds) // 2]
            continue
        grown, grown_steps = traffic(n, steps_wanted)
        figures = _round(ctx, f"g{n}", grown, grown_steps, timeout, postgres=False, noop=False, cli=True)
        rates[n], rss[n] = figures["sqlite"]["steps_per_s"], figures["cli"]["peak_rss_mb"]
        metrics.append(Metric(f"ingest_growth_{n}_steps_per_s", f"consumer -> SQLite, {n} athletes streaming",
                              "steps/s", [rates[n]], note=f"peak RSS {rss[n]:.0f} MB"))  # fmt: skip
    xs = sorted(rates)
    metrics += [] if len(xs) < 2 else [
        Metric("ingest_growth_rate_slope", "log-log slope of steps/s on athletes (" +
               ", ".join(f"{n}: {rates[n]:,.0f}" for n in xs) + ")", "", [slope(xs, [rates[n] for n in xs])]),
        Metric("ingest_growth_rss_slope", "log-log slope of peak RSS on athletes (" +
               ", ".join(f"{n}: {rss[n]:.0f} MB" for n in xs) + ")", "", [slope(xs, [rss[n] for n in xs])]),
    ]  # fmt: skip
    return [m for m in metrics if m.samples or m.value is not None]  # PostgreSQL ones go when it is absent


BENCHMARK = Benchmark("ingest", "MQTT backlog drained to SQLite/PostgreSQL against no-op subscribers; RSS", run)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--drain", choices=("consumer", "noop-manual", "noop-auto"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--db")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.drain == "consumer":
        figures = _drain_consumer(args)
    else:
        figures = _drain_noop(args, manual=args.drain == "noop-manual")
    args.out.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
