"""The alert lifecycle: one raise per crossing, no message when nothing a coach cares about changed."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.store import Store
from scoring import Assessment, Reason, Severity
from stridewatch.risk.alerts import AlertBook
from stridewatch.teams import TeamsConfig


def assessment(ts: int, *reasons: tuple[str, Severity, float]) -> Assessment:
    rs = tuple(
        Reason(rule=rule, severity=sev, value=value, threshold=1.3, message=f"{rule} is {value}", advice="rest")
        for rule, sev, value in reasons
    )
    level = max((r.severity for r in rs), default=Severity.LOW)
    return Assessment(team="t", athlete="a", ts=ts, level=level, score=30 if rs else 0, reasons=rs)


def test_one_raise_per_crossing_and_no_spam(tmp_path: Path) -> None:
    published: list[dict[str, object]] = []
    store = Store(f"sqlite:///{tmp_path}/a.db")
    store.migrate()
    book = AlertBook(store, TeamsConfig.default(), lambda _t, p, _id: published.append(json.loads(p)))
    book.adopt(lambda _team, _athlete: True)
    acwr = "acwr_spike"
    series = [
        assessment(1),  # low: nothing to say
        assessment(2, (acwr, Severity.MODERATE, 1.35)),  # raised
        assessment(3, (acwr, Severity.MODERATE, 1.41)),  # the value moved: not news
        assessment(4, (acwr, Severity.MODERATE, 1.33)),
        assessment(5, (acwr, Severity.HIGH, 1.55)),  # severity up: updated
        assessment(6, (acwr, Severity.HIGH, 1.52)),
        assessment(7),  # cleared
        assessment(8),
        assessment(9, (acwr, Severity.MODERATE, 1.36)),  # a new crossing: a new alert
    ]
    for a in series:
        unit = store.unit()
        book.record([c] if (c := book.stage(a)) else [], unit)
        unit.commit()
    assert [(p["ts"], p["state"]) for p in published] == [(2, "raised"), (5, "updated"), (7, "cleared"), (9, "raised")]
    assert published[0]["alert_id"] == published[1]["alert_id"] == published[2]["alert_id"] != published[3]["alert_id"]
    # A restart resumes the open alert instead of raising it again.
    again = AlertBook(store, TeamsConfig.default(), lambda _t, p, _id: published.append(json.loads(p)))
    again.adopt(lambda _team, _athlete: True)
    assert again.stage(assessment(10, (acwr, Severity.MODERATE, 1.4))) is None
    events = store.query("SELECT count(*) FROM alert_events")[0][0]
    store.close()
    assert events == 4
