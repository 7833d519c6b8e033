"""`stridewatch run`: ingest, score live and after each session, publish alerts.

`RiskService.handle` sees every batch the consumer has committed (it is the consumer's
``on_commit`` hook, on the consumer's worker thread, so alerts keep the order of the
messages and back-pressure reaches the broker): steps feed the athlete's live session
evaluator (session_spike, asymmetry, fatigue on every batch); a session start, a
session end or a pain report re-scores the athlete from the store as of that event's
time. The athlete's state is the post-session assessment with the live reasons merged
in; the `AlertBook` turns changes of it into alerts.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from ingest.consumer import Consumer, ConsumerConfig
from ingest.records import FEET, Records, SessionRow, StepBatchRow, WellnessRow, unpack_steps
from ingest.store import Store
from scoring import Assessment, LiveSession, Reason
from scoring.level import level_and_score
from scoring.live import judge_together
from stridewatch.alerts import AlertBook, Publish
from stridewatch.outbox import Deliverer
from stridewatch.risk import RiskEngine, SessionKey
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.service")
FOOT_LABELS = np.asarray(FEET)  # packed 0/1 -> "L"/"R", as the store decodes them


class RiskService:
    """The scoring and alerting half of `stridewatch run`, fed committed records."""

    def __init__(self, store: Store, teams: TeamsConfig, publish: Publish) -> None:
        self.engine = RiskEngine(store, teams)
        self.alerts = AlertBook(store, teams, publish)
        self._assessed: dict[tuple[str, str], Assessment] = {}
        self._live: dict[SessionKey, LiveSession] = {}
        self._ended: set[SessionKey] = set()
        self._latest: dict[tuple[str, str], int] = {}

    def handle(self, records: Records) -> None:
        """React to each committed record in arrival order (a session's end before the next one's steps).

        Steps only accumulate; the live sessions they touched are judged together, in one
        polars pass, before the next lifecycle event and at the end of the batch."""
        pending: dict[SessionKey, int] = {}
        for record in records.ordered:
            if isinstance(record, SessionRow | WellnessRow) and pending:  # raw imu batches change no state
                self._judge_live(pending)
            match record:
                case StepBatchRow():
                    self._on_steps(record, pending)
                case SessionRow(event="start"):
                    self._rescore(record.team, record.athlete, record.ts, only_if_open=True)
                case SessionRow():
                    key = (record.team, record.athlete, record.device, record.session_id)
                    self._live.pop(key, None)
                    self._ended.add(key)
                    self.engine.refresh_features(team=record.team, athlete=record.athlete)
                    self._rescore(record.team, record.athlete, record.ts)
                case WellnessRow():
                    self._rescore(record.team, record.athlete, record.ts)
        if pending:
            self._judge_live(pending)

    def _on_steps(self, batch: StepBatchRow, pending: dict[SessionKey, int]) -> None:
        key = (batch.team, batch.athlete, batch.device, batch.session_id)
        if key in self._ended:  # late steps of a finished session: its features are refreshed at the next end
            return
        live = self._live.get(key)
        if live is None:
            live = self.engine.live_session(key, start_ts=batch.first_ts)
            if live is None:  # a replay of a session the store already has whole
                self._ended.add(key)
                return
            self._live[key] = live
            # Score the athlete now, at the session's start, so a live alert costs no full scoring.
            self._assessed.setdefault(key[:2], self.engine.assess(key[0], key[1], at=batch.first_ts))
        cols = unpack_steps(batch.data, batch.n_steps)
        live.add_columns(cols["ts"], FOOT_LABELS[cols["foot"]], cols["impact_g"], cols["cadence_spm"])
        pending[key] = max(batch.last_ts, pending.get(key, batch.last_ts))

    def _judge_live(self, pending: dict[SessionKey, int]) -> None:
        sessions = [self._live[key] for key in pending]
        before = [{r.rule: r.severity for r in s.reasons} for s in sessions]
        judge_together(sessions)
        for (key, ts), session, old in zip(pending.items(), sessions, before, strict=True):
            if {r.rule: r.severity for r in session.reasons} != old:
                self._publish_state(key[0], key[1], ts)
        pending.clear()

    def _rescore(self, team: str, athlete: str, ts: int, *, only_if_open: bool = False) -> None:
        if only_if_open and self.alerts.current(team, athlete) is None:
            return  # nothing to clear, and a start alone cannot raise anything
        # An athlete's state only moves forward in event time: a late or replayed event is
        # scored as of the latest time seen, so it cannot bring back an older state.
        at = self._latest[(team, athlete)] = max(ts, self._latest.get((team, athlete), ts))
        self._assessed[(team, athlete)] = self.engine.assess(team, athlete, at=at)
        self._publish_state(team, athlete, at)

    def _publish_state(self, team: str, athlete: str, ts: int) -> None:
        live = [r for key, s in self._live.items() if key[:2] == (team, athlete) for r in s.reasons]
        base = self._assessed.get((team, athlete)) or self.engine.assess(team, athlete, at=ts)
        self._assessed[(team, athlete)] = base
        self.alerts.update(merge(base, live, ts))


def merge(assessment: Assessment, live: list[Reason], ts: int) -> Assessment:
    """The assessment with in-session reasons added; for a rule in both, the worse one counts."""
    by_rule = {r.rule: r for r in assessment.reasons}
    for reason in live:
        if reason.rule not in by_rule or reason.severity > by_rule[reason.rule].severity:
            by_rule[reason.rule] = reason
    reasons = tuple(sorted(by_rule.values(), key=lambda r: -r.severity))
    level, score = level_and_score([r.severity for r in reasons])
    return replace(assessment, ts=max(ts, assessment.ts), level=level, score=score, reasons=reasons)


class RunService:
    """The whole single-machine service: consumer, risk service, notification delivery."""

    def __init__(self, config: ConsumerConfig, teams: TeamsConfig) -> None:
        self._store = Store(config.db_url)
        self._store.migrate()
        self.consumer = Consumer(config, on_commit=self._on_commit)
        self.risk = RiskService(self._store, teams, self._publish)
        self._deliverer = Deliverer(Store(config.db_url), teams=teams)

    def _publish(self, topic: str, payload: bytes) -> None:
        self.consumer.publish(topic, payload, retain=True)

    def _on_commit(self, records: Records) -> None:
        self.risk.handle(records)

    def start(self) -> None:
        self._deliverer.start()
        self.consumer.start()

    def wait(self, timeout: float | None = None) -> None:
        self.consumer.wait(timeout)

    def stop(self) -> None:
        self.consumer.stop()
        self._deliverer.stop()
        self._store.close()
