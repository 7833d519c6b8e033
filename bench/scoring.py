"""Scoring at scale: the team-wide pass on one core, the peer ``acwr``, growth, memory.

Every measurement runs in a fresh subprocess with ``POLARS_MAX_THREADS=1`` (polars reads it
at import), on synthetic session features built directly in numpy/polars
(``bench.synth``): 10,000 athletes x 365 days by default, about 2.9 million sessions.

- ``scoring_10k_365_s``: ``score_team`` over judged sessions (``judge_sessions`` output,
  what the store persists beside the features), every athlete and every rule, one core.
  ``judge_sessions`` is timed on its own (``scoring_judge_10k_365_s``); features to scores
  is their sum.
- ``scoring_vs_acwr_speedup``: the peer (``acwr.by_athlete`` with EWMA ACWR and monotony,
  see ``bench.peer``) over the same sessions' loads, divided by our ``score_team``, which
  computes all fifteen rules, not just these two. The like-for-like ratio (our
  ``daily_loads`` + ``acwr`` + ``monotony`` expressions against the peer) is reported too.
- ``scoring_matches_acwr``: our timeline's ``acwr`` and ``monotony`` equal the peer's to
  1e-6 on every athlete-day both have.
- Incremental: ``score_athlete`` for one athlete with a year of history (after a session
  ends), from judged sessions and from plain features.
- Memory: peak RSS during ``score_team`` (sampled every 10 ms) and the process's peak.
- Growth: ``score_team`` at several team sizes; the log-log slope (1.0 = linear).

Run as ``python -m bench.scoring --worker ...`` it is that subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.core import Benchmark, Context, Metric, PeakSampler, Target, rss_mb, slope, timer

FULL = {"athletes": 10_000, "days": 365, "growth": (1_000, 3_000, 10_000, 20_000), "timeout": 1800.0}
QUICK = {"athletes": 300, "days": 120, "growth": (100, 300), "timeout": 300.0}
SMOKE = {"athletes": 40, "days": 60, "growth": (40,), "timeout": 120.0}


# -- the worker (one subprocess, one core) ----------------------------------------------


def _worker(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    from bench import peer, synth
    from scoring import History, judge_sessions, score_athlete, score_team, timeline

    out: dict[str, Any] = {"athletes": args.athletes, "days": args.days, "threads": pl.thread_pool_size()}
    features = synth.features(args.athletes, args.days, seed=args.seed)
    wellness = synth.wellness(args.athletes, args.days, seed=args.seed)
    at = synth.end_at(args.days)
    out["sessions"] = features.height
    out["pain_reports"] = wellness.height

    judge_s, judge_cpu = [], []
    for _ in range(args.judge_repeat):
        with timer() as t:
            judged = judge_sessions(features)
        judge_s.append(t["wall"])
        judge_cpu.append(t["cpu"])
    out["judge_s"], out["judge_cpu_s"] = judge_s, judge_cpu

    score_s, score_cpu = [], []
    baseline = rss_mb()
    with PeakSampler() as sampler:
        for _ in range(args.repeat):
            with timer() as t:
                scored = score_team(judged, wellness, at=at)
            score_s.append(t["wall"])
            score_cpu.append(t["cpu"])
    out["score_s"], out["score_cpu_s"] = score_s, score_cpu
    out["score_rss_before_mb"], out["score_rss_peak_mb"] = baseline, sampler.peak
    out["levels"] = dict(scored.group_by("level").len().iter_rows())

    if args.peer:
        ours_s = []
        for _ in range(args.repeat):
            with timer() as t:
                ours = _acwr_monotony(judged, at)
            ours_s.append(t["wall"])
        out["ours_acwr_monotony_s"] = ours_s
        frame = peer.activities(judged)
        theirs, peer_s = peer.run(frame)
        out["peer_s"] = [peer_s]
        days = timeline(judged, wellness, at=at).select("athlete", "day", "acwr", "monotony")
        out["agreement"] = peer.compare(days, theirs)
        out["agreement_same_computation"] = peer.compare(ours, theirs)

    if args.incremental:
        one = features["athlete"][0]
        mine = judged.filter(pl.col("athlete") == one)
        history = History(team="bench", athlete=one, sessions=mine, wellness=wellness.filter(pl.col("athlete") == one))
        plain = History(
            team="bench", athlete=one, sessions=features.filter(pl.col("athlete") == one), wellness=history.wellness
        )
        score_athlete(history, at=at)  # warm-up
        for name, h in (("incremental_judged_ms", history), ("incremental_features_ms", plain)):
            samples = []
            for _ in range(args.incremental):
                with timer() as t:
                    score_athlete(h, at=at)
                samples.append(t["wall"] * 1000)
            out[name] = samples
        out["incremental_sessions"] = mine.height
    out["process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _acwr_monotony(judged: Any, at: int) -> Any:
    """Our side of the like-for-like comparison: what the timeline computes for these two
    figures (athlete keys, daily loads on the calendar, EWMA ACWR, monotony), alone."""
    import polars as pl

    from scoring import ewma
    from scoring.keys import athlete_keys
    from scoring.load import daily_loads
    from scoring.rules._rule import ATHLETE
    from scoring.windows import DAY_INDEX, ROW, day_index, full_window, sorted_over

    keys, (key,) = athlete_keys(judged)
    daily = daily_loads(judged.select(key, "day", "training", "load", "n_steps"), until=at, by=[ATHLETE])
    load = pl.col("load")
    return (
        daily.lazy()
        .with_row_index(ROW)
        .with_columns(pl.col(ROW).cast(pl.Int32))
        .with_columns(day_index(pl.col(ATHLETE)).alias(DAY_INDEX))
        .with_columns(
            _acute=sorted_over(ewma.acute_load(load), ATHLETE),
            _chronic=sorted_over(ewma.chronic_load(load), ATHLETE),
            _ratio=ewma.monotony_ratio(load),
        )
        .select(
            pl.lit(keys["athlete"]).gather(pl.col(ATHLETE)).alias("athlete"),
            "day",
            acwr=ewma.acwr_from(pl.col("_acute"), pl.col("_chronic")),
            monotony=full_window(ewma.capped_monotony(pl.col("_ratio")), 7),
        )
        .collect()
    )


def _spawn(ctx: Context, **options: Any) -> dict[str, Any]:
    """Run the worker in a fresh one-core subprocess and return its figures."""
    out = ctx.workdir / f"scoring-{os.getpid()}-{len(list(ctx.workdir.iterdir()))}.json"
    argv = [sys.executable, "-m", "bench.scoring", "--worker", "--out", str(out)]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv += [flag] if value else []
        else:
            argv += [flag, str(value)]
    env = os.environ | {"POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    timeout = ctx.sizes(FULL, QUICK, SMOKE)["timeout"]
    try:
        done = subprocess.run(argv, env=env, cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                              text=True, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the scoring worker ({options}) did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"scoring worker failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


# -- the benchmark ----------------------------------------------------------------------


def run(ctx: Context) -> list[Metric]:
    size = ctx.sizes(FULL, QUICK, SMOKE)
    athletes, days = size["athletes"], size["days"]
    shape = f"{athletes:,} x {days}"
    ctx.log(f"team-wide pass, {shape}, one core, {ctx.repeat} repeats, with the peer and incremental scoring")
    main = _spawn(
        ctx, athletes=athletes, days=days, repeat=ctx.repeat, judge_repeat=ctx.repeat, peer=True,
        incremental=5 if ctx.quick else 20,
    )  # fmt: skip
    ctx.log(f"{main['sessions']:,} sessions, {main['pain_reports']:,} pain reports; levels {main['levels']}")
    agreement = main["agreement"]
    ctx.log(f"peer agreement (timeline): {agreement}")
    ctx.log(f"peer agreement (like-for-like pass): {main['agreement_same_computation']}")

    score = statistics.median(main["score_s"])
    peer_s = statistics.median(main["peer_s"])
    speedup = [peer_s / s for s in main["score_s"]]
    like = [peer_s / s for s in main["ours_acwr_monotony_s"]]
    metrics = [
        Metric("scoring_10k_365_s", f"score_team {shape}, one core (wall)", "s", main["score_s"],
               target=Target(5.0, "below")),
        Metric("scoring_10k_365_cpu_s", f"score_team {shape}, one core (CPU time)", "s", main["score_cpu_s"]),
        Metric("scoring_judge_10k_365_s", f"judge_sessions {shape}, one core", "s", main["judge_s"]),
        Metric("scoring_features_to_scores_10k_365_s", "judge_sessions + score_team", "s",
               [j + s for j, s in zip(main["judge_s"], main["score_s"], strict=True)]),
        Metric("scoring_vs_acwr_speedup", f"peer acwr ({peer_s:.1f} s) / ours, same computation",
               "x", like, target=Target(50.0, "above"),
               note="daily loads, EWMA ACWR, monotony for every athlete-day, from the same session loads"),
        Metric("scoring_full_vs_acwr_speedup", "peer acwr / our whole score_team", "x", speedup,
               note="ours runs all 15 rules, the peer 2 of them"),
        Metric("scoring_matches_acwr", f"ACWR and monotony equal the peer's to 1e-6 ({agreement['days_compared']:,} days)",
               value=agreement["matches"] and main["agreement_same_computation"]["matches"]),
        Metric("scoring_acwr_max_diff", "largest ACWR difference from the peer", "", [agreement["acwr_max_diff"] or 0.0]),
        Metric("scoring_monotony_max_diff", "largest monotony difference from the peer", "",
               [agreement["monotony_max_diff"] or 0.0]),
        Metric("scoring_incremental_ms", f"score_athlete, one athlete, a year ({main['incremental_sessions']} sessions judged)",
               "ms", main["incremental_judged_ms"]),
        Metric("scoring_incremental_features_ms", "score_athlete from plain features (judging included)", "ms",
               main["incremental_features_ms"]),
        Metric("scoring_peak_rss_mb", "peak RSS during score_team (process)", "MB", [main["score_rss_peak_mb"]],
               note=f"{main['score_rss_before_mb']:.0f} MB before: data and judged sessions"),
        Metric("scoring_pass_rss_mb", "RSS added by the score_team pass", "MB",
               [main["score_rss_peak_mb"] - main["score_rss_before_mb"]]),
    ]  # fmt: skip

    # Growth with the team size: the main run gives one point, fresh workers the others.
    points = {athletes: score}
    for n in size["growth"]:
        if n in points:
            continue
        ctx.log(f"growth: {n:,} athletes x {days}")
        try:
            figures = _spawn(ctx, athletes=n, days=days, repeat=1, judge_repeat=1)
        except RuntimeError as exc:  # out of memory: the bend is the ceiling
            ctx.log(f"growth stops at {n:,} athletes: {exc}")
            break
        points[n] = statistics.median(figures["score_s"])
        metrics.append(Metric(f"scoring_growth_{n}_s", f"score_team {n:,} x {days}", "s", figures["score_s"],
                              note=f"peak RSS {figures['process_peak_rss_mb']:.0f} MB"))  # fmt: skip
    sizes = sorted(points)
    per_athlete = ", ".join(f"{n:,}: {points[n] / n * 1e3:.2f} ms" for n in sizes)
    metrics += [] if len(sizes) < 2 else [Metric("scoring_growth_slope", f"log-log slope of time on athletes ({per_athlete} per athlete)", "",
                          [slope(sizes, [points[n] for n in sizes])])]  # fmt: skip
    return metrics


BENCHMARK = Benchmark("scoring", "team-wide scoring on one core against the peer acwr; growth; memory", run)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--athletes", type=int, default=FULL["athletes"])
    parser.add_argument("--days", type=int, default=FULL["days"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--judge-repeat", type=int, default=1)
    parser.add_argument("--peer", action="store_true")
    parser.add_argument("--incremental", type=int, default=0)
    args = parser.parse_args()
    args.out.write_text(json.dumps(_worker(args), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
