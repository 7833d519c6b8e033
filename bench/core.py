"""The benchmark registry, measurements and their summary (median and spread).

A benchmark is a module in this package that defines ``BENCHMARK = Benchmark(...)``: a
name, a one-line description, and ``run(ctx) -> list[Metric]``. ``python -m bench``
imports every module of the package, so adding ``bench/alert_latency.py`` with its own
``BENCHMARK`` is all it takes to add a benchmark (``ORDER`` only sets where it prints).

A ``Metric`` holds the samples of one figure over the repeated runs; its JSON key (e.g.
``ingest_steps_per_s``) carries the median at the top level of the results file, and the
samples, spread, unit, target and verdict under ``details``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# Where each benchmark prints; modules not listed follow in alphabetical order.
ORDER = ("ingest", "alert_latency", "scoring")


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value`` reached from ``above`` (at least) or ``below`` (under)."""

    value: float
    direction: Literal["above", "below"]

    def met(self, measured: float) -> bool:
        return measured >= self.value if self.direction == "above" else measured < self.value

    def margin(self, measured: float) -> str:
        """By how much it is met or missed, e.g. ``+35%`` or ``-12%`` (positive: better)."""
        if self.value == 0:
            return ""
        ratio = measured / self.value if self.direction == "above" else self.value / measured if measured else math.inf
        return f"{(ratio - 1) * 100:+.0f}%"

    def __str__(self) -> str:
        return f"{'>=' if self.direction == 'above' else '<'} {_number(self.value)}"


@dataclass
class Metric:
    """One figure: its samples over the repeats (numbers) or a single verdict (bool)."""

    key: str
    label: str
    unit: str = ""
    samples: list[float] = field(default_factory=list)
    value: bool | str | None = None  # for non-numeric figures (agreement with the peer)
    target: Target | None = None
    note: str = ""
    digits: int = 3

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.samples), max(self.samples)) if self.samples else None

    @property
    def iqr(self) -> tuple[float, float] | None:
        if len(self.samples) < 4:
            return None
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return self.value if isinstance(self.value, bool) else None
        median = self.median
        return None if median is None else self.target.met(median)

    def headline(self) -> Any:
        """The value for the top level of the JSON: the median, or the verdict."""
        if self.samples:
            return round(self.median, 6) if self.median is not None else None
        return self.value

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "unit": self.unit}
        if self.samples:
            lo, hi = self.spread or (None, None)
            out.update(
                samples=[round(s, 6) for s in self.samples], median=self.headline(), min=lo, max=hi, n=len(self.samples)
            )
            if self.iqr:
                out["iqr"] = list(self.iqr)
        else:
            out["value"] = self.value
        if self.target is not None:
            out.update(target=str(self.target), passed=self.passed)
            if self.median is not None:
                out["margin"] = self.target.margin(self.median)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Context:
    """What a benchmark is asked to do: a scale (``full``, ``quick``, or ``smoke``: tiny, for
    CI, where only the keys and the agreement with the peer are checked), repeats, and a
    scratch folder."""

    scale: Literal["full", "quick", "smoke"]
    repeat: int
    workdir: Path
    log: Callable[[str], None] = print

    @property
    def quick(self) -> bool:
        return self.scale != "full"

    def sizes(self, full: Any, quick: Any, smoke: Any = None) -> Any:
        """The sizes for this scale (``smoke`` defaults to ``quick``'s)."""
        return {"full": full, "quick": quick, "smoke": quick if smoke is None else smoke}[self.scale]


@dataclass(frozen=True)
class Benchmark:
    name: str
    about: str
    run: Callable[[Context], list[Metric]]


def discover() -> dict[str, Benchmark]:
    """Every ``BENCHMARK`` defined by a module of this package, in ``ORDER``."""
    package = importlib.import_module("bench")
    found: dict[str, Benchmark] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("_") or module.name in ("core", "synth", "peer"):
            continue
        loaded = importlib.import_module(f"bench.{module.name}")
        benchmark = getattr(loaded, "BENCHMARK", None)
        if isinstance(benchmark, Benchmark):
            found[benchmark.name] = benchmark
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0])))


# -- helpers the benchmarks share ------------------------------------------------------


def _number(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return str(x)
    magnitude = abs(x)
    if magnitude >= 100_000:
        return f"{x:,.0f}"
    if magnitude >= 100:
        return f"{x:.0f}"
    if magnitude >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt(x: float | None) -> str:
    return "-" if x is None else _number(x)


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process (this one by default) in MB, from /proc."""
    with open(f"/proc/{pid or 'self'}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children, in MB (psutil when installed, else /proc)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 1e6
    except ImportError:
        return rss_mb(pid)


class PeakSampler:
    """Samples a process's RSS every ``interval`` s in a thread; ``peak`` in MB."""

    def __init__(self, pid: int | None = None, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid) if self.pid is None else tree_rss_mb(self.pid))
                self.samples += 1
            except (FileNotFoundError, ProcessLookupError, OSError):
                pass
            except Exception:  # psutil.NoSuchProcess when the process is gone
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["wall"]`` and ``t["cpu"]`` (this process) in seconds."""
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    yield out
    out["wall"] = time.perf_counter() - wall
    out["cpu"] = time.process_time() - cpu


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) on log(x): 1.0 is linear growth."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(points) < 2:
        return float("nan")
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    var = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / var if var else float("nan")


def end(process: subprocess.Popen[Any], grace_s: float = 15.0) -> None:
    """SIGTERM, and SIGKILL after ``grace_s``: a benchmark always ends, whatever its service does."""
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def spawn(workdir: Path, name: str, *argv: str) -> subprocess.Popen[bytes]:
    """``python -m stridewatch ARGV --health-file WORKDIR/NAME.json`` in its own process, as deployed,
    logging to ``WORKDIR/NAME.log``."""
    with (workdir / f"{name}.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "stridewatch", *argv, "--health-file",
                                 str(workdir / f"{name}.json")], stdout=log, stderr=log)  # fmt: skip


def health(workdir: Path, name: str) -> dict[str, Any]:
    """What a `spawn`-ed process last wrote to its health file ({} before it has)."""
    with suppress(FileNotFoundError, json.JSONDecodeError):  # not yet, or mid-write
        return json.loads((workdir / f"{name}.json").read_text())  # type: ignore[no-any-return]
    return {}


def until(ready: Callable[[], bool], processes: dict[str, subprocess.Popen[bytes]], workdir: Path, timeout: float,
          what: str) -> None:  # fmt: skip
    """Wait for ``ready``; a process that exits or a deadline passed is the benchmark failing, and says why."""
    deadline = time.monotonic() + timeout
    while not ready():
        for name, process in processes.items():
            if process.poll() is not None:
                tail = (workdir / f"{name}.log").read_text()[-1500:]
                raise RuntimeError(f"{name} exited {process.returncode} waiting for {what}: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {timeout:g} s")
        time.sleep(0.2)
