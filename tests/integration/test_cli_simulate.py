"""`stridewatch simulate` publishes valid contract messages that a plain subscriber sees."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ingest.payloads import parse_payload
from ingest.topics import parse_device_topic
from tests.mqtt_helpers import Collector, wait_until
from tests.scenario_expectations import SCENARIO_END

pytestmark = pytest.mark.integration


def test_simulate_jump_rope_spike_reaches_a_subscriber_valid(broker: object) -> None:
    url = broker.url  # type: ignore[attr-defined]
    with Collector(url, "stridewatch/v1/club/#") as sub:
        done = subprocess.run(
            [sys.executable, "-m", "stridewatch", "simulate", "jump_rope_spike", "--mqtt-url", url, "--quiet",
             "--end", SCENARIO_END.isoformat()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        published = int(re.search(r"published ([\d,]+) messages", done.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
        # retained ones are earlier tests' device status, sent on subscribe
        live = lambda: [m for m in sub.snapshot() if not m[2]]  # noqa: E731
        wait_until(lambda: len(live()) >= published, timeout=30, what=f"{published} messages")
        for topic, payload, _retained in live():
            parse_payload(parse_device_topic(topic), payload)  # raises on anything off-contract
        assert published > 1000 and len(live()) == published


def test_simulate_list_and_bad_arguments() -> None:
    listed = subprocess.run([sys.executable, "-m", "stridewatch", "simulate", "--list"], capture_output=True, text=True)
    for name in ("restart_runner", "jump_rope_spike", "steady_runner", "daily_rope_500", "doms_normal", "worn_shoes",
                 "overtrained"):  # fmt: skip
        assert name in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "stridewatch", "simulate"], capture_output=True, text=True)
    assert bad.returncode != 0 and "name at least one scenario" in bad.stderr
