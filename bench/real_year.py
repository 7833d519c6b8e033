"""A real runner's year through the service's scoring: how many alerts a coach would get.

68 runs by one recreational runner, about 1.3 a week, no pain reported
(``tests/data/real/gpx_year``: corriporai/runpandas, MIT), imported as ``stridewatch
import`` does and fed in the order they happened through `stridewatch run`'s own path
(the store, session features, live sessions, scoring, the alert book), in transactions
of 200 messages as the consumer commits them. Before the load rules were graded by their
evidence this raised 22 high alerts, one for every third run; the targets are at most 3
high raises and at most 15 moderate ones, every high naming longest_session or a pain rule.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.core import Benchmark, Context, Metric, Target
from ingest.records import Records, to_record
from ingest.store import Store
from stridewatch.risk.pipeline import RiskPipeline
from stridewatch.teams import TeamsConfig
from stridewatch.tools.importing import expand, prepare

YEAR = Path(__file__).resolve().parents[1] / "tests" / "data" / "real" / "gpx_year"
RANK = {"low": 0, "moderate": 1, "high": 2, "critical": 3}
EVIDENCED = {"longest_session", "pain_acute", "pain_persistent"}  # what a high alert should stand on


@dataclass
class Alerts:
    """What a coach would have been sent: raises into high (or worse) and at moderate."""

    high_raises: int = 0
    moderate_raises: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)  # "rule:severity" in published alerts
    highs: list[list[str]] = field(default_factory=list)  # the rules of each high raise
    runs: int = 0


def replay(files: list[Path], db_url: str = "sqlite:///:memory:") -> Alerts:
    """The runs in ``files`` through the service's scoring; the alerts it published, counted."""
    imported = prepare(files, team="real", athlete="runner", device="watch")
    published: list[dict[str, Any]] = []
    now = int(time.time() * 1000)
    with Store(db_url, synchronous="OFF") as store:
        store.migrate()
        service = RiskPipeline(
            store, TeamsConfig.default(), lambda _topic, body, _id: published.append(json.loads(body))
        )
        for start in range(0, len(imported.messages), 200):
            records = Records()
            for message in imported.messages[start : start + 200]:
                records.add(to_record(message.topic, message.payload, now_ms=now, max_future_ms=0))
            service.handle(store.write(records, received_at=now))
    out = Alerts(runs=sum(s.imported for f in imported.files for s in f.sessions))
    before = "low"
    for alert in published:
        level = alert["level"]
        if RANK[level] >= RANK["high"] > RANK[before]:
            out.high_raises += 1
            out.highs.append(sorted(r["rule"] for r in alert["reasons"]))
        if alert["state"] == "raised" and level == "moderate":
            out.moderate_raises += 1
        out.by_rule.update(f"{r['rule']}:{r['severity']}" for r in alert["reasons"])
        before = "low" if alert["state"] == "cleared" else level
    return out


def benchmark(ctx: Context) -> list[Metric]:
    files = expand([YEAR])
    # The count is a function of the data: one run, whatever --repeat says.
    alerts = replay(files[: ctx.sizes(full=len(files), quick=len(files), smoke=12)])
    ctx.log(f"{alerts.runs} runs; alert reasons: {dict(sorted(alerts.by_rule.items()))}; highs: {alerts.highs}")
    unsupported = sum(not EVIDENCED & set(rules) for rules in alerts.highs)
    about = f"{alerts.runs} real runs of one runner over a year"
    return [
        Metric("real_year_high_raises", f"high alerts raised ({about})", "", [alerts.high_raises],
               target=Target(3.5, "below")),
        Metric("real_year_moderate_raises", "moderate alerts raised", "", [alerts.moderate_raises],
               target=Target(15.5, "below")),
        Metric("real_year_unsupported_highs", "high alerts naming neither longest_session nor a pain rule", "",
               [unsupported], target=Target(0.5, "below")),
    ]  # fmt: skip


BENCHMARK = Benchmark("real_year", "a real runner's year through the scoring: the alerts a coach gets", benchmark)
