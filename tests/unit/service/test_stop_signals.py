"""How `stridewatch run` and `ingest` answer SIGTERM and Ctrl-C (`stridewatch.cli._serve`), in a real
process with a stand-in service: the first signal stops it and exits 0, even while it is still
starting; a second one exits at once, without waiting for the stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

# A service whose start, wait and stop take as long as the arguments say, and say when they begin.
SERVICE = """
import sys, time
from stridewatch.cli import _serve

make_s, stop_s = float(sys.argv[1]), float(sys.argv[2])


class Service:
    def start(self): print("started", flush=True)
    def wait(self): time.sleep(60)
    def stop(self): print("stopping", flush=True); time.sleep(stop_s); print("stopped", flush=True)


def make():
    print("making", flush=True)
    time.sleep(make_s)
    return Service()


_serve(make, None)
"""


def serve(make_s: float, stop_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVICE, str(make_s), str(stop_s)], stdout=subprocess.PIPE, text=True
    )


def read_until(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdout is not None
    for got in process.stdout:
        if got.strip() == line:
            return
    pytest.fail(f"the process ended before printing {line!r}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_stops_the_service_and_exits_0(signum: int) -> None:
    process = serve(make_s=0, stop_s=0.5)
    read_until(process, "started")
    process.send_signal(signum)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out.split() == ["stopping", "stopped"]


def test_a_signal_while_the_service_is_still_being_made_exits_0() -> None:
    process = serve(make_s=1.0, stop_s=0)
    read_until(process, "making")
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "started" not in out


def test_a_second_signal_exits_at_once_without_waiting_for_the_stop() -> None:
    process = serve(make_s=0, stop_s=30)
    read_until(process, "started")
    process.send_signal(signal.SIGTERM)
    read_until(process, "stopping")
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=10)
    assert time.monotonic() - began < 2
    assert process.returncode == 128 + signal.SIGINT
    assert "stopped" not in out
