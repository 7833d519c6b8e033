"""``python -m bench [--quick] [--json PATH] [--only NAME...] [--repeat N]``: run, print, save.

Each benchmark runs its measurements ``--repeat`` times (default 3; ``--quick``: 1, at
small sizes) and the table shows the median and the spread (min-max, and the
interquartile range from 4 samples on). The figures go to ``bench/results/`` as JSON
(``--json`` to choose the file): the medians at the top level, everything under
``details``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.core import Context, Metric, discover, fmt

RESULTS = Path(__file__).resolve().parent / "results"


def _parser(names: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (about a minute)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat: does it run (CI); never a figure")
    parser.add_argument("--json", type=Path, help="results file (default: bench/results/bench-<time>.json)")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"run only these: {', '.join(names)}")
    parser.add_argument("--repeat", type=int, help="repeats of each measurement (default 3; --quick: 1)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser


def _table(results: dict[str, list[Metric]]) -> Table:
    table = Table(title="stridewatch benchmarks", show_lines=False)
    for column, justify in (
        ("benchmark", "left"),
        ("figure", "left"),
        ("median", "right"),
        ("spread (min .. max)", "right"),
        ("n", "right"),
        ("target", "left"),
        ("result", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, metrics in results.items():
        for i, m in enumerate(metrics):
            if m.samples:
                lo, hi = m.spread or (None, None)
                median, spread = f"{fmt(m.median)} {m.unit}".strip(), f"{fmt(lo)} .. {fmt(hi)}"
                if m.iqr:
                    spread += f" (IQR {fmt(m.iqr[0])} .. {fmt(m.iqr[1])})"
            else:
                median, spread = str(m.value), ""
            verdict = m.passed
            result = "" if verdict is None else ("[green]pass[/]" if verdict else "[red]MISS[/]")
            if m.target is not None and m.median is not None:
                result += f" {m.target.margin(m.median)}"
            label = m.label + (f" [dim]({m.note})[/]" if m.note else "")
            table.add_row(name if i == 0 else "", label, median, spread, str(len(m.samples) or ""),
                          str(m.target or ""), result)  # fmt: skip
        table.add_section()
    return table


def main(argv: list[str] | None = None) -> int:
    benchmarks = discover()
    args = _parser(list(benchmarks)).parse_args(argv)
    if args.list:
        for name, benchmark in benchmarks.items():
            print(f"{name:16s} {benchmark.about}")
        return 0
    scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    repeat = args.repeat or (3 if scale == "full" else 1)
    console = Console(width=None if sys.stdout.isatty() else 150)
    selected = {n: b for n, b in benchmarks.items() if not args.only or n in args.only}
    results: dict[str, list[Metric]] = {}
    failures: dict[str, str] = {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="stridewatch-bench-") as scratch:
        for name, benchmark in selected.items():
            console.rule(f"[bold]{name}[/]: {benchmark.about}")
            workdir = Path(scratch) / name
            workdir.mkdir()
            ctx = Context(scale=scale, repeat=repeat, workdir=workdir, log=lambda s: console.print(f"  {s}"))
            t0 = time.perf_counter()
            try:
                results[name] = benchmark.run(ctx)
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                failures[name] = f"{type(exc).__name__}: {exc}"
                console.print(f"[red]{name} failed[/]: {exc}")
                traceback.print_exc()
            console.print(f"  [dim]{name} took {time.perf_counter() - t0:.0f} s[/]")
    console.print(_table(results))
    suffix = "" if scale == "full" else f"-{scale}"
    path = args.json or RESULTS / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {metric.key: metric.headline() for metrics in results.values() for metric in metrics}
    document["details"] = {m.key: m.to_json() for metrics in results.values() for m in metrics}
    document["run"] = {
        "scale": scale,
        "repeat": repeat,
        "benchmarks": list(results),
        "failed": failures,
        "seconds": round(time.time() - started, 1),
        "started": dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average": os.getloadavg(),
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    console.print(f"results: {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
