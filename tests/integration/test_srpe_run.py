"""A team that logs only session ratings, through `stridewatch run` and a real Mosquitto (issue 25):
sessions with no steps count by their sRPE, the load rules judge them, and the coach reads which
measure the load was counted in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.consumer import ConsumerConfig
from ingest.store import Store
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.services.run import RunService
from stridewatch.teams import TeamsConfig
from tests.mqtt_helpers import Collector, publish_all, wait_until

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000
START = 1_767_261_600_000  # 2026-01-01 10:00 UTC


def practice(day: int, rpe: float, minutes: float) -> list[tuple[str, bytes]]:
    """A team practice logged from a phone: a start, and an end with the rating; no pod, no steps."""
    topic = "stridewatch/v1/club/ana/phone/session"
    start = START + day * DAY_MS
    sid = f"practice-{day}"
    return [
        (topic, json.dumps({"session_id": sid, "event": "start", "ts": start, "activity": "other"}).encode()),
        (topic, json.dumps({"session_id": sid, "event": "end", "ts": start + int(minutes * 60_000),
                            "duration_s": minutes * 60, "rpe": rpe}).encode()),
    ]  # fmt: skip


def test_ten_rated_days_in_a_row_raise_no_rest_in_session_rpe(own_broker: SpawnedMosquitto, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"
    service = RunService(ConsumerConfig(mqtt_url=own_broker.url, db_url=db, client_id="srpe-run"),
                         TeamsConfig.default())  # fmt: skip
    service.start()
    try:
        with Collector(own_broker.url, "stridewatch/v1/club/alerts/ana") as coach:
            messages = [m for day in range(10) for m in practice(day, 4, 45)]
            publish_all(own_broker.url, messages)

            def no_rest() -> dict[str, object] | None:
                alerts = [json.loads(p) for _t, p, _r in coach.snapshot()]
                reasons = [r for a in alerts[-1:] for r in a["reasons"] if r["rule"] == "no_rest"]
                return reasons[0] if reasons else None

            # High from the tenth day in a row (an update of the same reason's value alone is not published).
            wait_until(lambda: (no_rest() or {}).get("severity") == "high", timeout=60, what="a high no_rest")
    finally:
        service.stop()
    reason = no_rest()
    assert reason is not None and reason["value"] == 10
    assert str(reason["message"]).endswith("(load in session RPE x minutes)")
    with Store(db) as store:
        rated = store.sessions(team="club", athlete="ana")
    assert rated["rpe"].to_list() == [4.0] * 10
