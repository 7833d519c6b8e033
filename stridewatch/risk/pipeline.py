"""The risk pipeline's heart: stored records in, alerts out, for `stridewatch run` and the score workers alike.

`RiskPipeline.handle` sees every batch of records the store took (from `run`'s consumer, or
from a score worker's feed). Each athlete's scoring state is kept in memory
(`stridewatch.risk.athletes`) and updated, not recomputed: a session's end folds that
session's features in, a pain report its entries, both costing the same on day 400 as on
day 4. Steps feed the live evaluator of the session in progress (longest_session,
asymmetry and fatigue on every batch), which reads the athlete's state, not the store.
The athlete's risk is their state's assessment with the live reasons merged in; the
`AlertBook` turns changes of it into alerts, stored in one transaction per batch with the
checkpoints of the states that changed, then published.

Reasons that stand "for 7 days or until the next session" must also end when nothing
comes: `RiskPipeline.reevaluate` re-scores every open alert as of the wall clock, which the
services do every ``reevaluate_s``, so the retained risk topic says what holds now.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from ingest.feed import FeedRecord, fold_key
from ingest.records import FEET, Records, SessionRow, StepBatchRow, WellnessRow, unpack_steps
from ingest.store import Store, Unit
from scoring import Assessment, AthleteState, LiveSession, Reason
from scoring.level import level_and_score
from stridewatch.risk.alerts import AlertBook, Change
from stridewatch.risk.athletes import Athlete, AthleteKey, AthleteStates
from stridewatch.risk.engine import RiskEngine, SessionKey, time_ordered
from stridewatch.risk.relay import Publish
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.risk.pipeline")
# A live session without a step for this long has ended, whether or not its end message came.
LIVE_IDLE_MS = 3_600_000
REEVALUATE_S = 900.0
LIVE_BATCHES = 8  # a session's batches in one call up to which it is streaming, judged after each


class RiskPipeline:
    """Stored records in, alerts out, for the athletes it has adopted (`adopt`: all of them for `run`,
    a score worker's partitions' for it); athletes met before any are adopted start with no open alert."""

    def __init__(self, store: Store, teams: TeamsConfig, publish: Publish | None, *, capacity: int = 5_000) -> None:
        self.engine = RiskEngine(store, teams)
        self.alerts = AlertBook(store, teams, publish)
        self.athletes = AthleteStates(self.engine, capacity=capacity)
        self._store = store
        # Sessions in progress, per athlete: (device, session_id) -> its live evaluator and batches.
        self._live: dict[AthleteKey, dict[tuple[str, str], _Stream]] = {}
        # The lifecycle fields of the sessions whose start this service has handled (until their end).
        self._started: dict[SessionKey, dict[str, Any]] = {}
        self._changes: list[Change] = []

    def adopt(self, whose: Callable[[str, str], bool]) -> None:
        """Score the athletes ``whose`` accepts from now on, from what the store holds of them."""
        self.forget(whose)
        self.alerts.adopt(whose)

    def forget(self, whose: Callable[[str, str], bool]) -> None:
        """Stop scoring the athletes ``whose`` accepts (another process scores them now): what this
        one holds of them in memory would be stale when they come back."""
        self.athletes.forget(whose)
        self.alerts.forget(whose)
        self._live = {key: streams for key, streams in self._live.items() if not whose(*key)}
        self._started = {key: s for key, s in self._started.items() if not whose(*key[:2])}
        self._changes = [c for c in self._changes if not whose(c.assessment.team, c.assessment.athlete)]

    def handle(self, records: Records, unit: Unit | None = None) -> None:
        """React to each record the store took, in event order (`ingest.feed.fold_key`: the order a
        score worker folds the feed in), then store the alerts and checkpoints with ``unit`` (the
        caller's, which it commits with its own writes; else one of its own, committed here), and
        publish the alerts once it has committed.

        ``records`` is what `Store.write` returned: its new records, and its ``duplicates``, which
        are folded again only to be sure a crash between the store's commit and this one lost
        nothing (every fold here is idempotent: a session ended twice is one session, a report
        twice one report, a batch twice one batch). A streaming session is judged live after each
        of its batches, so what coaches are told does not depend on how records were grouped into
        calls (transactions, replicas' commits, folds); a session with more than ``LIVE_BATCHES``
        batches here is catching up on a backlog: its steps accumulate and it is judged before the
        next lifecycle event and at the end. Steps of a session that has ended change its features:
        they are folded again from the store."""
        pending: dict[SessionKey, int] = {}
        late: dict[AthleteKey, int] = {}  # athletes with steps of an ended session: the latest step
        taken = sorted((r for r in (*records.ordered, *records.duplicates) if isinstance(r, FeedRecord)), key=fold_key)
        ends = [r for r in taken if isinstance(r, SessionRow) and r.event == "end"]
        ended = self.engine.ended(ends, self._whole_sessions(records))
        ending = {(r.team, r.athlete, r.device, r.session_id) for r in ends}
        batches = Counter((r.team, r.athlete, r.device, r.session_id) for r in taken if isinstance(r, StepBatchRow))
        catching_up = {key for key, n in batches.items() if n > LIVE_BATCHES}
        for record in taken:
            if pending and not (isinstance(record, StepBatchRow) and pending.keys() <= catching_up):
                self._judge_live(pending)
            match record:
                case StepBatchRow():
                    self._on_steps(record, pending, late, ending)
                case SessionRow(event="start"):
                    self._on_start(record)
                case SessionRow():
                    self._ended(record, ended[(record.team, record.athlete)])
                case WellnessRow():
                    athlete = self.athletes.get(record.team, record.athlete, at=record.ts)
                    pain = [
                        {"team": record.team, "athlete": record.athlete, "ts": record.ts, "site": p.site,
                         "side": p.side, "score": p.score, "kind": p.kind}
                        for p in record.pain
                    ]  # fmt: skip
                    self.athletes.fold_pain(athlete, pain)
                    self._rescore(athlete)
        if pending:
            self._judge_live(pending)
        self._refold(late)
        self._flush(unit)

    def _on_start(self, record: SessionRow) -> None:
        key = (record.team, record.athlete, record.device, record.session_id)
        athlete = self.athletes.get(record.team, record.athlete, at=record.ts)
        if athlete.state.has_session(record.device, record.session_id):
            return  # a start sent again after its session ended
        self._started[key] = {
            "device": record.device, "session_id": record.session_id, "activity": record.activity,
            "surface": record.surface, "shoe_id": record.shoe_id, "placement": record.placement,
            "start_ts": record.ts,
        }  # fmt: skip
        stream = self._live.get(key[:2], {}).get(key[2:])
        if stream is not None:  # its steps came first: judged as the session it now says it is
            stream.restart(self._started[key])
        if self.alerts.current(record.team, record.athlete) is not None:
            self._rescore(athlete)  # a start raises nothing, but time has passed for an open alert

    def _refold(self, late: dict[AthleteKey, int]) -> None:
        """Fold again the ended sessions of the ``late`` athletes whose stored steps changed since their
        features were made (as of the latest of those steps)."""
        if not late:
            return
        refreshed = self.engine.refresh_features(athletes=late)
        for team, name in refreshed.select("team", "athlete").unique(maintain_order=True).iter_rows():
            athlete = self.athletes.get(team, name, at=late[(team, name)])
            ids = refreshed.filter((pl.col("team") == team) & (pl.col("athlete") == name))["session_id"]
            self.athletes.fold_sessions(athlete, self._store.session_features(team=team, athlete=name, sessions=ids))
            self._rescore(athlete)

    def rebuild(self, athletes: set[AthleteKey]) -> None:
        """Score ``athletes`` afresh from what the store holds on their next event (their checkpoints
        may lack what failed to fold)."""
        self.forget(lambda team, athlete: (team, athlete) in athletes)
        try:
            self.engine.refresh_features(athletes=athletes)
        finally:
            self._store.drop_athlete_states(sorted(athletes))

    def reevaluate(self, now_ms: int) -> None:
        """Re-score every athlete with an open alert as of ``now_ms`` (or their latest event, if later),
        and forget live sessions that have streamed nothing for ``LIVE_IDLE_MS``."""
        for (team, name), sessions in self._live.items():
            for key, stream in list(sessions.items()):
                if (stream.live.last_ts or 0) < now_ms - LIVE_IDLE_MS:
                    del sessions[key]
                    self._started.pop((team, name, *key), None)
        for team, name in self.alerts.open_athletes():
            self._rescore(self.athletes.get(team, name, at=now_ms))
        self._flush()

    def _ended(self, record: SessionRow, features: pl.DataFrame) -> None:
        self._live.get((record.team, record.athlete), {}).pop((record.device, record.session_id), None)
        self._started.pop((record.team, record.athlete, record.device, record.session_id), None)
        athlete = self.athletes.get(record.team, record.athlete, at=record.ts)
        # This session, and those of the athlete's sessions refreshed with it that have ended by now.
        self.athletes.fold_sessions(athlete, features, ended_by=athlete.latest)
        self._rescore(athlete)

    def _whole_sessions(self, records: Records) -> dict[SessionKey, dict[str, np.ndarray]]:
        """The steps of the sessions newly ending in ``records`` that this service holds whole: a
        stream has the batches it took, and they add their new ones; a session that also starts in
        them has its batches in them. Whole, when the store holds no more (batches that came before
        the start, in a batch before a restart): one count for all of them."""
        starting = {(s.team, s.athlete, s.device, s.session_id) for s in records.sessions if s.event == "start"}
        ending = {(s.team, s.athlete, s.device, s.session_id) for s in records.sessions if s.event == "end"}
        if not ending:
            return {}
        batches: dict[SessionKey, list[StepBatchRow]] = {}
        for batch in records.steps:
            key = (batch.team, batch.athlete, batch.device, batch.session_id)
            if key in ending:
                batches.setdefault(key, []).append(batch)
        held: dict[SessionKey, list[dict[str, np.ndarray]]] = {}
        for key in ending:
            stream = self._live.get(key[:2], {}).get(key[2:])
            if stream is not None:
                for batch in batches.get(key, []):
                    stream.take(batch.seq, batch.first_ts, batch.data, batch.n_steps, batch.cadence_estimated)
                held[key] = list(stream.batches.values())
            elif key in starting:
                held[key] = [
                    unpack_steps(b.data, b.n_steps, cadence_estimated=b.cadence_estimated) for b in batches.get(key, [])
                ]
        stored = self._store.batch_counts(sorted(held)) if held else {}
        return {key: time_ordered(steps) for key, steps in held.items() if stored.get(key, 0) == len(steps)}

    def _on_steps(
        self, batch: StepBatchRow, pending: dict[SessionKey, int], late: dict[AthleteKey, int], ending: set[SessionKey]
    ) -> None:
        athlete = self.athletes.get(batch.team, batch.athlete, at=batch.last_ts)
        if athlete.state.has_session(batch.device, batch.session_id):  # it has ended: its features change
            whose = (batch.team, batch.athlete)
            late[whose] = max(batch.last_ts, late.get(whose, batch.last_ts))
            return
        sessions = self._live.setdefault((batch.team, batch.athlete), {})
        key = (batch.team, batch.athlete, batch.device, batch.session_id)
        if key in ending and (batch.device, batch.session_id) not in sessions:
            return  # all of it in these records (a backlog): judged whole at its end, not live
        if (batch.device, batch.session_id) not in sessions:
            sessions[(batch.device, batch.session_id)] = self._begin(key, athlete)
            if athlete.assessed is None:  # scored now, at the session's start: a live alert costs no scoring
                athlete.assessed = athlete.state.assess(at=athlete.latest)
        sessions[(batch.device, batch.session_id)].take(
            batch.seq, batch.first_ts, batch.data, batch.n_steps, batch.cadence_estimated
        )
        pending[key] = max(batch.last_ts, pending.get(key, batch.last_ts))

    def _begin(self, key: SessionKey, athlete: Athlete) -> _Stream:
        """A live evaluator for a session that has begun streaming; what its history says of it
        comes from the athlete's state. A session whose start this service has not handled (a
        restart in mid-session, steps before the start) has its lifecycle fields and the steps
        stored so far read from the store: they are the session's own, never its history."""
        session = self._started.get(key)
        if session is not None:
            return _Stream(athlete.state, session)
        fields = self._store.sessions(team=key[0], athlete=key[1], sessions=[key[3]])
        fields = fields.filter(pl.col("device") == key[2])
        session = fields.row(0, named=True) if fields.height else {"device": key[2], "session_id": key[3]}
        stream = _Stream(athlete.state, session | {"start_ts": session.get("start_ts") or athlete.latest})
        for seq, first_ts, n_steps, data, estimated in self._store.session_batches(key):
            stream.take(seq, first_ts, data, n_steps, estimated)
        return stream

    def _judge_live(self, pending: dict[SessionKey, int]) -> None:
        for (team, name, device, session_id), ts in pending.items():
            stream = self._live.get((team, name), {}).get((device, session_id))
            if stream is None:
                continue
            before = {r.rule: r.severity for r in stream.live.reasons}
            if {r.rule: r.severity for r in stream.judge()} != before:
                self._stage(self.athletes.get(team, name, at=ts))
        pending.clear()

    def _rescore(self, athlete: Athlete) -> None:
        # An athlete's risk only moves forward in event time: a late or replayed event is
        # scored as of the latest time seen, so it cannot bring back an older state.
        athlete.assessed = athlete.state.assess(at=athlete.latest)
        self._stage(athlete)

    def _stage(self, athlete: Athlete) -> None:
        key = (athlete.state.team, athlete.state.athlete)
        live = [r for stream in self._live.get(key, {}).values() for r in stream.live.reasons]
        if athlete.assessed is None:
            athlete.assessed = athlete.state.assess(at=athlete.latest)
        change = self.alerts.stage(merge(athlete.assessed, live, athlete.latest))
        if change is not None:
            self._changes.append(change)

    def _flush(self, unit: Unit | None = None) -> None:
        """The batch's alerts and the checkpoints of the states they came from: one unit of work."""
        own = unit or self._store.unit()
        changes, self._changes = self._changes, []
        self._store.save_athlete_states(own, self.athletes.checkpoints(), now_ms=int(time.time() * 1000))
        self.alerts.record(changes, own)
        if unit is None:
            own.commit()

    @property
    def unconfirmed(self) -> int:
        """Alert events published and not yet acknowledged by the broker."""
        return self.alerts.relay.unconfirmed

    def confirm(self) -> None:
        """Mark the alert events the broker has acknowledged since the last batch (that alone: the
        states and alerts of a batch are stored with the batch)."""
        unit = self._store.unit()
        self.alerts.record([], unit)
        unit.commit()


class _Stream:
    """A session in progress: its live evaluator, the batches it has taken, and those not yet added
    (added together before each judgement: one numpy pass for the batches between two).

    The evaluator keeps running sums in the order steps are added: a batch that comes out of
    time order (swapped in transit, resent after a drop), or a start that comes after the steps,
    has it made again from every batch taken, in time order, so the verdict is that of the steps
    stored, however they came."""

    def __init__(self, state: AthleteState, session: dict[str, Any]) -> None:
        self._state, self._session = state, session
        self.live = LiveSession(state, session)
        self.batches: dict[int, dict[str, np.ndarray]] = {}  # seq -> unpacked columns
        self._firsts: dict[int, int] = {}  # seq -> first step time
        self.queued: list[int] = []
        self._rebuild = False

    def take(self, seq: int, first_ts: int, data: bytes, n_steps: int, cadence_estimated: bool) -> None:
        if seq in self.batches:  # taken already (from the store, when the stream began)
            return
        if self._firsts and first_ts < max(self._firsts.values()):
            self._rebuild = True
        self.batches[seq] = unpack_steps(data, n_steps, cadence_estimated=cadence_estimated)
        self._firsts[seq] = first_ts
        self.queued.append(seq)

    def restart(self, session: dict[str, Any]) -> None:
        """The session's own lifecycle fields came (its start, after some steps): judge it as that."""
        self._session, self._rebuild = session, True

    def judge(self) -> tuple[Reason, ...]:
        if self._rebuild:
            self.live = LiveSession(self._state, self._session)
            self.queued = sorted(self.batches, key=lambda seq: (self._firsts[seq], seq))
            self._rebuild = False
        if self.queued:
            columns = {
                name: np.concatenate([self.batches[seq][name] for seq in self.queued])
                for name in ("ts", "foot", "impact_g", "cadence_spm")
            }
            self.queued.clear()
            left = columns["foot"] == FEET.index("L")
            self.live.add_columns(columns["ts"], left, columns["impact_g"], columns["cadence_spm"])
        return self.live.judge()


def merge(assessment: Assessment, live: list[Reason], ts: int) -> Assessment:
    """The assessment with in-session reasons added; for a rule in both, the worse one counts."""
    by_rule = {r.rule: r for r in assessment.reasons}
    for reason in live:
        if reason.rule not in by_rule or reason.severity > by_rule[reason.rule].severity:
            by_rule[reason.rule] = reason
    reasons = tuple(sorted(by_rule.values(), key=lambda r: -r.severity))
    level, score = level_and_score([r.severity for r in reasons])
    return replace(assessment, ts=max(ts, assessment.ts), level=level, score=score, reasons=reasons)
