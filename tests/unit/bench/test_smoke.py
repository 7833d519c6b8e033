"""The benchmark suite at tiny sizes: it runs, writes every figure, and agrees with the peer.

Timings on a shared CI machine mean nothing, so no speed is asserted: only that each
benchmark ran, that the results file has its keys with sane values, and that our ACWR and
monotony equal the peer package's (``scoring_matches_acwr``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.core import discover

pytestmark = pytest.mark.integration  # a real Mosquitto, SQLite and PostgreSQL

REQUIRED = {
    "ingest": ("ingest_steps_per_s", "ingest_noop_ratio", "ingest_peak_rss_mb"),
    "scoring": ("scoring_10k_365_s", "scoring_vs_acwr_speedup", "scoring_matches_acwr"),
    "alert_latency": ("alert_latency_p50_ms", "alert_latency_p99_ms"),
    "dashboard": ("dashboard_athlete_p95_ms", "dashboard_board_p95_ms"),
    "imu_pods": ("imu_pods_realtime", "imu_pods_per_core"),
    "imu_accuracy": ("imu_real_max_error_pct", "imu_real_min_f1_aligned", "imu_sim_impact_max_error_pct"),
    "scale_out": (
        "scale_out_alert_latency_p99_ms",
        "scale_out_drain_1_records_per_s",
        "scale_out_drain_3_vs_1",
        "scale_out_db_cpu_s_per_1k",
    ),
}


def test_every_benchmark_runs_at_smoke_size_and_agrees_with_the_peer(tmp_path: Path) -> None:
    pytest.importorskip("acwr", reason="the peer package: pip install acwr")
    results = tmp_path / "results.json"
    assert main(["--smoke", "--json", str(results)]) == 0
    figures = json.loads(results.read_text())

    assert figures["run"]["failed"] == {}
    assert set(figures["run"]["benchmarks"]) == set(discover())
    for name in discover():
        for key in REQUIRED.get(name, ()):
            assert key in figures, f"{name} did not report {key}"
    for key, value in figures.items():
        if key in ("details", "run") or isinstance(value, bool):
            continue
        assert isinstance(value, int | float) and math.isfinite(value), f"{key} = {value!r}"
        assert key in figures["details"]

    assert figures["scoring_matches_acwr"] is True
    assert figures["details"]["scoring_acwr_max_diff"]["median"] <= 1e-6
    assert figures["ingest_steps_per_s"] > 0 and figures["ingest_peak_rss_mb"] > 0
