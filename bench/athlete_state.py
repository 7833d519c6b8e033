"""One event folded into an athlete's state: what `stridewatch run` pays per session end or report.

An athlete with a year of history (a run on 5 days of 7, a pain report now and then, two
shoes) is folded into a `scoring.AthleteState`; then each next event of the following
weeks, a session's end or a pain report, is folded and the athlete assessed as of its
time (``add_session`` / ``add_pain``, then ``assess``), timed one by one (CPU time, this
process). The figure is the median: the cost does not grow with the history, because the
state keeps a bounded past (``scoring.state``). Also: the same athlete assessed with
``score_athlete`` from the whole history (what each event cost before, for comparison),
the state's checkpoint size, and its memory (tracemalloc).
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from typing import Any

import polars as pl

from bench.core import Benchmark, Context, Metric, Target
from scoring import SESSION_FEATURES_SCHEMA, WELLNESS_SCHEMA, AthleteState, History, score_athlete
from scoring.schemas import DAY_MS

T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z
HOUR = 3_600_000


def _session(day: int, rng: random.Random) -> dict[str, Any]:
    start = T0 + day * DAY_MS + int(rng.uniform(6, 8) * HOUR)
    steps = int(rng.uniform(4000, 7000))
    median = rng.uniform(7.0, 8.5)
    row: dict[str, Any] = dict.fromkeys(SESSION_FEATURES_SCHEMA.names())
    row.update(
        team="bench", athlete="a", device="pod", session_id=f"s{day}", activity="run", placement="shin",
        surface=rng.choice(["asphalt", "grass", "track", None]), shoe_id="shoe-a" if day < 200 else "shoe-b",
        start_ts=start, end_ts=start + steps * 350, duration_s=steps * 0.35, distance_m=steps * 1.05,
        n_steps=steps, n_impact=steps, impact_median=median, impact_weighted_sum=steps * median * 1.02,
        plain_weighted_steps=0.0, descent_steps=int(steps * rng.uniform(0, 0.2)),
        warmup_ratio=rng.uniform(0.75, 0.95), fatigue_cadence_change=rng.uniform(-0.06, 0.0),
        fatigue_impact_change=rng.uniform(0.0, 0.12), impact_mean_L=median, impact_mean_R=median * rng.uniform(0.95, 1.05),
        first_ts=start, last_ts=start + steps * 350,
    )  # fmt: skip
    return row


def _pain(day: int, rng: random.Random) -> list[dict[str, Any]]:
    ts = T0 + day * DAY_MS + 20 * HOUR
    return [{"team": "bench", "athlete": "a", "ts": ts, "site": rng.choice(["calf", "knee"]), "side": "L",
             "score": rng.choice([2, 3, 4, 6]), "kind": "ache"}]  # fmt: skip


def _events(days: int, seed: int) -> list[tuple[str, int, Any]]:
    rng = random.Random(seed)
    out: list[tuple[str, int, Any]] = []
    for day in range(days):
        if day % 7 < 5:
            row = _session(day, rng)
            out.append(("session", row["end_ts"], row))
        if rng.random() < 0.08:
            pain = _pain(day, rng)
            out.append(("pain", pain[0]["ts"], pain))
    return sorted(out, key=lambda e: e[1])


def run(ctx: Context) -> list[Metric]:
    history_days, measured_days = ctx.sizes(full=(365, 60), quick=(365, 20), smoke=(60, 7))
    per_event: list[float] = []
    batch_path: list[float] = []
    sizes: list[float] = []
    memory: list[float] = []
    for repeat in range(ctx.repeat):
        events = _events(history_days + measured_days, seed=repeat)
        cut = next(i for i, e in enumerate(events) if e[1] >= T0 + history_days * DAY_MS)
        sessions = [e[2] for e in events[:cut] if e[0] == "session"]
        pain = [r for e in events[:cut] if e[0] == "pain" for r in e[2]]
        tracemalloc.start()
        state = AthleteState.from_history(
            History(
                team="bench",
                athlete="a",
                sessions=pl.DataFrame(sessions, schema=SESSION_FEATURES_SCHEMA),
                wellness=pl.DataFrame(pain, schema=WELLNESS_SCHEMA),
            )
        )
        state.assess(at=events[cut - 1][1])
        memory.append(tracemalloc.get_traced_memory()[0] / 1e3)
        tracemalloc.stop()
        for kind, ts, payload in events[cut:]:
            started = time.process_time()
            state.add_session(payload) if kind == "session" else state.add_pain(payload)
            state.assess(at=ts)
            per_event.append((time.process_time() - started) * 1e6)
            sessions += [payload] if kind == "session" else []
            pain += payload if kind == "pain" else []
        sizes.append(len(state.checkpoint()) / 1e3)
        history = History(
            team="bench",
            athlete="a",
            sessions=pl.DataFrame(sessions, schema=SESSION_FEATURES_SCHEMA),
            wellness=pl.DataFrame(pain, schema=WELLNESS_SCHEMA),
        )
        for _ in range(3):
            started = time.process_time()
            score_athlete(history, at=events[-1][1])
            batch_path.append((time.process_time() - started) * 1e6)
    ctx.log(f"{len(per_event)} events folded; p99 {statistics.quantiles(per_event, n=100)[98]:.0f} us")
    about = f"an athlete with {history_days} days of history"
    return [
        Metric("score_event_us_p50", f"one event folded and assessed, median ({about})", "us", [statistics.median(per_event)],
               target=Target(1000.0, "below")),
        Metric("score_event_us_p99", "one event folded and assessed, 99th percentile", "us",
               [statistics.quantiles(per_event, n=100)[98]]),
        Metric("score_event_batch_us", "the same athlete scored from the whole history (score_athlete)", "us",
               [statistics.median(batch_path)]),
        Metric("athlete_state_checkpoint_kb", "the state's checkpoint (compressed JSON)", "kB", sizes),
        Metric("athlete_state_memory_kb", "the state's memory (tracemalloc)", "kB", memory),
    ]  # fmt: skip


BENCHMARK = Benchmark("athlete_state", "one event folded into an athlete's state with a year of history", run)
