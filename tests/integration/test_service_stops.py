"""SIGTERM at random moments of a backlog: `stridewatch run` and `stridewatch ingest` exit 0 within
10 s whatever they are doing, and once restarted have stored every message exactly once (issue 17).

The moments are random points of the backlog: the signal goes once the store holds a
random share of its steps, so every one lands while the service is working through it
(mid-batch, mid-scoring, or between), and while the simulator publishes or after.
"""

from __future__ import annotations

import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulators import generate
from stridewatch.broker.local import SpawnedMosquitto
from tests.ingest_counts import expected_per_team, start_ingest, stored_per_team, stored_steps
from tests.mqtt_helpers import wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration
MOMENTS = 20
STOP_S = 10.0
SCENARIO = "steady_runner"  # issue 17's reproduction: 38,438 messages, hundreds of the services' batches


def sigterm(process: subprocess.Popen[bytes], log: Path) -> float:
    """Send SIGTERM; the seconds until the process exited 0 (the test fails if it takes over `STOP_S`)."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"still running {STOP_S:g} s after SIGTERM; its log ends:\n{log.read_text()[-2000:]}")
    assert code == 0, f"exit {code} after SIGTERM; its log ends:\n{log.read_text()[-2000:]}"
    return time.monotonic() - began


@pytest.mark.parametrize("command", ["ingest", "run"])
def test_sigterm_at_20_random_moments_of_a_backlog_stops_within_10_s_and_loses_nothing(
    command: str, own_broker: SpawnedMosquitto, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path}/stridewatch.db"
    expected = expected_per_team(generate(SCENARIO, end=SCENARIO_END, seed=0))
    logs: list[Path] = []

    def start() -> subprocess.Popen[bytes]:
        logs.append(tmp_path / f"{command}-{len(logs)}.log")
        with logs[-1].open("wb") as log:
            process = start_ingest(own_broker.url, db, log, f"stopped-{command}", command=command)
        wait_until(lambda: "event=connected" in logs[-1].read_text(), timeout=60, what=f"{command} connected")
        return process

    process = start()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "stridewatch", "simulate", SCENARIO, "--mqtt-url", own_broker.url,
         "--speed", "max", "--end", SCENARIO_END.isoformat(), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    rng = random.Random(17)
    total = sum(team["steps"] for team in expected.values())
    stops: list[float] = []
    try:
        for moment in sorted(rng.uniform(0.02, 0.95) * total for _ in range(MOMENTS)):
            wait_until(lambda: stored_steps(db) >= moment, timeout=120, what=f"{moment:.0f} steps", interval=0.05)  # noqa: B023
            stops.append(sigterm(process, logs[-1]))
            process = start()
        _, errors = simulator.communicate(timeout=120)
        assert simulator.returncode == 0, errors.decode()
        wait_until(lambda: stored_per_team(db) == expected, timeout=180, what="every message stored")
    finally:
        if process.poll() is None:  # not after a failed stop, which killed it
            stops.append(sigterm(process, logs[-1]))
        simulator.kill()
        simulator.wait()
    print(
        f"\n{command}: {len(stops)} SIGTERMs, exit after {statistics.median(stops):.2f} s (median), {max(stops):.2f} s (max)"
    )
    assert stored_per_team(db) == expected
