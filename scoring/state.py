"""Athlete state that is updated, not recomputed: the timeline's verdicts, one event at a time.

`AthleteState` holds what the rules read of one athlete's history: their judged sessions
(each with its load and what the earlier sessions say of it), their pain reports, and one
row per local calendar day with the running values (EWMA acute and chronic loads, window
sums, streaks, the hysteresis latches, the carried session verdicts). It takes events: an
ended session's features (`add_session`), pain reports (`add_pain`), and time passing
(`assess` at a later time adds the days in between). ``assess(at)`` is what
``scoring.score_athlete`` gives for the same history at the same time: the batch
timeline stays the definition, and a property test checks the two agree at every event.

Each rule computes its own columns here too, in plain Python beside its polars
expressions (``Rule.session_values``, ``SessionRule.judge_session_row``,
``Rule.prepare_row``, ``Rule.judge_row``, ``Rule.pain_days``), reading earlier days
through `Days`, so a rule is read and changed in one place.

An event older than what the state has folded (a late session, a report from a phone
that was offline) is folded in its place: the sessions after it are judged again and the
days from its day on recomputed. The days before stay as they were: every value of a day
depends only on that day and the ones before it.

Memory stays bounded: the state keeps the last ``REORDER_DAYS`` days' rows plus the 35
days the rules read back from them, 217 days of daily strain (monotony's 182-day
percentile lagged 21 days), the sessions of the last ``REORDER_DAYS`` + 91 days (the
longest session window is 90 days) and each shoe's latest session, and every pain
report (a few a week at most). So an event may land at most ``REORDER_DAYS`` days before
the latest day folded: an older one raises `TooLate`, and the caller rebuilds the state
from the whole history. `checkpoint` and `restore` carry the state across restarts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from scoring import ewma
from scoring.assess import Assessment, History
from scoring.errors import ScoringError
from scoring.level import level_and_score
from scoring.load import first_measure, srpe_load, training_aggregates
from scoring.rows import Days, Kept, Pain, Record, Row, Shapes, median, window
from scoring.rules import AcuteLoadRule, SessionRule
from scoring.rules._rule import severity_column
from scoring.schemas import DAY_MS, SESSION_FEATURES_SCHEMA
from scoring.severity import QUIET, Severity
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from scoring.timeline import threshold_column, value_column

ACUTE_ALPHA = 2.0 / (ewma.ACUTE_DAYS + 1)
CHRONIC_ALPHA = 2.0 / (ewma.CHRONIC_DAYS + 1)
MONOTONY_DAYS = ewma.ACUTE_DAYS
FEATURES = tuple(SESSION_FEATURES_SCHEMA.names())
REORDER_DAYS = 14  # how late an event may arrive and still be folded in place
LOOKBACK_DAYS = 35  # the furthest back a rule reads a day's row: no_rest's 28 days, a week ago
STRAIN_DAYS = 203  # monotony's strain percentile: 182 days, lagged 21
SESSION_DAYS = 91  # the longest session window (asymmetry, the soft-ground baseline: 90 days)


class TooLate(ScoringError):
    """An event older than the state keeps enough of the past to fold: rebuild from the whole history."""


def _fingerprint() -> str:
    """Of the scoring code itself: a checkpoint made by other rules (an upgrade) is not reused."""
    root = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=12)
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()


CODE = _fingerprint()


def _ordinal_day(ts: int, zone: dt.tzinfo) -> int:
    return dt.datetime.fromtimestamp(ts / 1000, zone).date().toordinal()


def _zone(tz: str) -> dt.tzinfo:
    """An IANA zone, or a fixed offset such as "+02:00" (both of which polars accepts)."""
    if tz[:1] in "+-":
        hours, _, minutes = tz[1:].partition(":")
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        return dt.timezone(-offset if tz[0] == "-" else offset)
    return ZoneInfo(tz)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


@dataclass
class AthleteState:
    """One athlete's history as the rules read it, kept up to date event by event.

    Examples
    --------
    >>> from scoring.schemas import SESSION_FEATURES_SCHEMA
    >>> state = AthleteState(team="t", athlete="a")
    >>> session = dict.fromkeys(SESSION_FEATURES_SCHEMA.names()) | {"team": "t", "athlete": "a", "device": "d",
    ...     "session_id": "s", "activity": "jump_rope", "start_ts": 0, "end_ts": 600_000, "n_steps": 400,
    ...     "n_impact": 0, "impact_weighted_sum": 0.0, "plain_weighted_steps": 400.0, "descent_steps": 0}
    >>> state.add_session(session)
    >>> state.assess(at=700_000).level.label
    'low'
    """

    team: str
    athlete: str
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    tz: str = "UTC"
    sessions: list[Kept] = field(default_factory=list)  # judged, by start, device, session_id
    pain: list[Pain] = field(default_factory=list)  # by ts
    days: Days = field(default_factory=Days)
    first_day: int | None = None
    first_training_day: int | None = None
    fold_from: int | None = None  # the earliest day an event may land on; None: the whole past is kept
    latest_ts: int | None = None  # the latest event time folded
    measure: str | None = None  # the load's ("steps" or "srpe": ``load.session_loads``); None before any session
    _dirty: int | None = field(default=None, init=False, repr=False)  # the first day to recompute

    def __post_init__(self) -> None:
        self._zone = _zone(self.tz)
        self._rules = self.thresholds.rules()
        self._aggregates = [*training_aggregates(), *(a for r in self._rules for a in r.day_inputs())]
        self._session_rules = [r for r in self._rules if isinstance(r, SessionRule)]
        # Float sums over windows keep running totals (``Days.rolling_sum``).
        self._summed = [a.name for a in self._aggregates if a.how == "sum" and a.dtype is None]
        self._by_day: dict[int, list[Kept]] = {}  # while rows are computed
        self._positions: dict[tuple[str, str], int] | None = None  # of the sessions, by device and id
        self._shapes = Shapes()
        self._spread_pain()

    # -- events -----------------------------------------------------------------------
    def add_session(self, features: Mapping[str, Any]) -> None:
        """Fold in an ended session (a row of ``SESSION_FEATURES_SCHEMA``); a session already
        folded (same device and session id) is replaced, e.g. when late steps changed it.
        Raises `TooLate` for a session before ``fold_from``."""
        row: Row = {name: features.get(name) for name in FEATURES}
        start = _first(row["start_ts"], row["first_ts"])
        old = self._index_of(row["device"], row["session_id"])
        day = None if start is None else _ordinal_day(start, self._zone)
        for moved in (day, None if old is None else self.sessions[old]["day"]):
            self._check(moved)
        self._seen(_first(row["end_ts"], row["last_ts"], start))
        if old is not None:
            self._touch(self.sessions.pop(old)["day"])
            self._positions = None
        if start is None or day is None:  # no time at all: it cannot be placed on a calendar (``session_loads``)
            if old is not None:
                self._rejudge(old)
            return
        duration = (
            None if row["last_ts"] is None or row["first_ts"] is None else (row["last_ts"] - row["first_ts"]) / 1000.0
        )
        row.update(
            start=start,
            end=_first(row["end_ts"], row["last_ts"], start),
            day=day,
            duration=_first(row["duration_s"], duration),
            training=row["activity"] in self.thresholds.load.activities,
        )
        where = bisect.bisect_right([_order(s) for s in self.sessions], _order(row))
        self.sessions.insert(where, row)
        self._positions = None
        self._rejudge(where if old is None else min(where, old))

    def add_pain(self, reports: Iterable[Mapping[str, Any]]) -> None:
        """Fold in pain entries (rows of ``WELLNESS_SCHEMA``); an entry already folded is ignored.
        Raises `TooLate` for one before ``fold_from``."""
        known = set(self.pain)
        entries = [
            Pain(ts=r["ts"], day=_ordinal_day(r["ts"], self._zone), site=r["site"], side=r["side"],
                 score=r["score"], kind=r["kind"])
            for r in reports
        ]  # fmt: skip
        fresh = [e for e in dict.fromkeys(entries) if e not in known]
        for entry in fresh:
            self._check(entry.day)
        for entry in fresh:
            self._seen(entry.ts)
            bisect.insort(self.pain, entry, key=lambda p: p.ts)
            self._touch(entry.day)
        if fresh:
            self._spread_pain()
            self._reset_first_days()

    def assess(self, *, at: int) -> Assessment:
        """The athlete's risk at ``at`` (epoch ms), from everything folded so far, which must not
        be later than ``at``: ``score_athlete`` on the same history."""
        if self.first_day is None:
            return Assessment(team=self.team, athlete=self.athlete, ts=at, level=Severity.LOW, score=0)
        today = _ordinal_day(at, self._zone)
        self._recompute(today)
        row = self._day(today - self.first_day, partial=True)
        reasons = [
            rule.reason(
                Severity(sev), row[value_column(rule.rule_id)], row[threshold_column(rule.rule_id)], self.measure
            )
            for rule in self._rules
            if (sev := row[severity_column(rule.rule_id)])
        ]
        reasons.sort(key=lambda r: -r.severity)
        level, score = level_and_score([r.severity for r in reasons])
        self._by_day = {}  # it holds sessions the trim forgets
        self._trim(today)
        return Assessment(team=self.team, athlete=self.athlete, ts=at, level=level, score=score, reasons=tuple(reasons))

    @classmethod
    def from_history(
        cls, history: History, *, thresholds: Thresholds = DEFAULT_THRESHOLDS, tz: str = "UTC"
    ) -> AthleteState:
        """The state of an athlete with this whole history (after `TooLate`, or with no checkpoint)."""
        state = cls(team=history.team, athlete=history.athlete, thresholds=thresholds, tz=tz)
        for row in history.sessions.iter_rows(named=True):  # nothing is forgotten before the first assess
            state.add_session(row)
        state.add_pain(history.wellness.iter_rows(named=True))
        return state

    def has_session(self, device: str, session_id: str) -> bool:
        """Whether that session has ended and been folded in."""
        return self._index_of(device, session_id) is not None

    def session_context(self, session: Mapping[str, Any]) -> Row:
        """A session in progress (its lifecycle fields: device, session_id, activity, start_ts,
        and optionally surface, shoe_id, placement), judged against the sessions before it:
        what ``live.LiveSession`` needs, without reading any history."""
        row: Row = {name: session.get(name) for name in FEATURES} | {"team": self.team, "athlete": self.athlete}
        row["activity"] = row["activity"] or "other"
        row.update(
            start=row["start_ts"], end=None, day=_ordinal_day(row["start_ts"], self._zone), duration=None,
            training=row["activity"] in self.thresholds.load.activities, n_steps=0, n_impact=0,
            impact_weighted_sum=0.0, plain_weighted_steps=0.0, descent_steps=0, measure=self.measure,
        )  # fmt: skip
        earlier = [s for s in self.sessions if _order(s) < _order(row)]
        sessions = [*earlier, row]
        j = len(earlier)
        row["baseline_g"] = self._baseline(sessions, j)
        for rule in self._rules:
            row.update(rule.session_values(sessions, j))
        return row

    # -- keeping the past bounded, and across restarts ----------------------------------
    def _check(self, day: int | None) -> None:
        if day is not None and self.fold_from is not None and day < self.fold_from:
            raise TooLate(
                f"{self.team}/{self.athlete}: an event on day {dt.date.fromordinal(day)} is older than the "
                f"{REORDER_DAYS} days of the past kept (from {dt.date.fromordinal(self.fold_from)})"
            )

    def _seen(self, ts: int | None) -> None:
        if ts is not None:
            self.latest_ts = ts if self.latest_ts is None else max(self.latest_ts, ts)

    def _trim(self, today: int) -> None:
        """Forget what no event from ``today - REORDER_DAYS`` on can need."""
        assert self.first_day is not None
        fold_from = today - REORDER_DAYS
        if fold_from - LOOKBACK_DAYS <= self.first_day:
            return  # nothing to forget yet
        self.fold_from = fold_from
        self.days.keep(rows=today - fold_from + LOOKBACK_DAYS + 1, strains=today - fold_from + STRAIN_DAYS + 1)
        horizon = fold_from - SESSION_DAYS
        last_of_shoe = {s["shoe_id"]: s for s in self.sessions if s["shoe_id"] is not None}
        keep = {id(s) for s in last_of_shoe.values()}  # each shoe's distance so far rides on its latest session
        self.sessions = [s for s in self.sessions if s["day"] >= horizon or id(s) in keep]
        self._positions = None

    def checkpoint(self) -> bytes:
        """The state as compressed JSON, to `restore` after a restart."""
        document = {
            "code": CODE,
            "settings": _settings(self.thresholds, self.tz),
            "team": self.team,
            "athlete": self.athlete,
            "first_day": self.first_day,
            "first_training_day": self.first_training_day,
            "fold_from": self.fold_from,
            "latest_ts": self.latest_ts,
            "measure": self.measure,
            "dirty": self._dirty,
            "offset": self.days.offset,
            "strain_offset": self.days.strain_offset,
            "strains": self.days.strains,
            "rows": _columns(self.days.rows),
            "sessions": _columns(self.sessions),
            "pain": [[p.ts, p.site, p.side, p.score, p.kind] for p in self.pain],
        }
        # orjson and the fastest zlib level: a tenth of the cost of json and level 6, on every batch
        # that changes a state, for 15% more bytes.
        return zlib.compress(orjson.dumps(document), 1)

    @classmethod
    def restore(
        cls, data: bytes, *, thresholds: Thresholds = DEFAULT_THRESHOLDS, tz: str = "UTC"
    ) -> AthleteState | None:
        """The state a `checkpoint` holds; None when it was made by other scoring code or settings
        (rebuild from the history then)."""
        document = orjson.loads(zlib.decompress(data))
        if document["code"] != CODE or document["settings"] != _settings(thresholds, tz):
            return None
        state = cls(team=document["team"], athlete=document["athlete"], thresholds=thresholds, tz=tz)
        state.first_day, state.first_training_day = document["first_day"], document["first_training_day"]
        state.fold_from, state.latest_ts, state._dirty = document["fold_from"], document["latest_ts"], document["dirty"]
        state.measure = document["measure"]
        state.days.offset, state.days.strain_offset = document["offset"], document["strain_offset"]
        state.days.strains = document["strains"]
        state.days.rows = [state._shapes.freeze(row) for row in _rows(document["rows"])]
        state.sessions = [state._shapes.freeze(row) for row in _rows(document["sessions"])]
        state.pain = [
            Pain(ts=ts, day=_ordinal_day(ts, state._zone), site=site, side=side, score=score, kind=kind)
            for ts, site, side, score, kind in document["pain"]
        ]
        state._spread_pain()
        return state

    # -- sessions -----------------------------------------------------------------------
    def _spread_pain(self) -> None:
        """The days each pain rule holds on, and each day's worst score, from every report (they are few)."""
        self._pain_days = {r.rule_id: days for r in self._rules if (days := r.pain_days(self.pain)) is not None}
        self._pain_max: dict[int, int] = {}
        for p in self.pain:
            self._pain_max[p.day] = max(p.score, self._pain_max.get(p.day, p.score))

    def _index_of(self, device: str, session_id: str) -> int | None:
        if self._positions is None:  # made again after the list changes: a lookup per step batch
            self._positions = {(s["device"], s["session_id"]): i for i, s in enumerate(self.sessions)}
        return self._positions.get((device, session_id))

    def _rejudge(self, start: int) -> None:
        """Judge the sessions from index ``start`` on again: each reads only the ones before it.

        Loads first, for all of them: a window closed on the right (return_from_break's typical
        session) takes in the sessions that start at the same time, after it in order, and a
        load depends only on sessions that started earlier; all of them when the athlete's
        measure changed (a session before their first one came late)."""
        measure = self._measure()
        if measure != self.measure:
            self.measure, start = measure, 0
        judged: list[Row] = []
        for j in range(start, len(self.sessions)):
            session = dict(self.sessions[j])
            session["baseline_g"] = self._baseline(self.sessions, j)
            session["measure"] = measure
            if measure == "srpe":
                session["load"] = srpe_load(session["rpe"], session["duration"], self.thresholds.load)
            else:
                weighted = session["impact_weighted_sum"]
                share = None if weighted is None or session["baseline_g"] is None else weighted / session["baseline_g"]
                session["load"] = (share if share is not None else 0.0) + (session["plain_weighted_steps"] or 0.0)
            self.sessions[j] = session
            judged.append(session)
        for j, session in enumerate(judged, start):
            for rule in self._rules:
                session.update(rule.session_values(self.sessions, j))
            for rule in self._session_rules:
                severity, value, threshold = rule.judge_session_row(session)
                trained = session["training"]
                session[rule.column("s_sev")] = severity if trained else QUIET
                session[rule.column("s_value")] = value if trained else None
                session[rule.column("s_threshold")] = threshold if trained else None
            self._touch(session["day"])
        for j, session in enumerate(judged, start):
            self.sessions[j] = self._shapes.freeze(session)
        self._reset_first_days()

    def _measure(self) -> str | None:
        """The athlete's load measure (``load.session_loads``): the setting, or under "auto" what their
        first training session gives; once that session is forgotten, the one decided then."""
        setting = self.thresholds.load.measure
        if setting != "auto":
            return setting
        first = next((s for s in self.sessions if s["training"]), None)
        forgotten = self.fold_from is not None and self.first_training_day is not None
        if first is None or (forgotten and first["day"] > self.first_training_day):
            return self.measure or "steps"
        return first_measure(bool(first["n_steps"]), first["rpe"] is not None)

    def _reset_first_days(self) -> None:
        """The calendar starts on the first record day (every row's index counts from it), and
        history counts from the first training day."""
        first_day = min([*(s["day"] for s in self.sessions), *(p.day for p in self.pain)], default=None)
        first_training = min((s["day"] for s in self.sessions if s["training"]), default=None)
        if self.fold_from is not None:
            # The calendar began long ago, before the sessions forgotten. History began with
            # the first training day: if that is forgotten too, it stays; else every training
            # session since is kept, and the first of them is the answer.
            first_day = self.first_day
            if self.first_training_day is not None and self.first_training_day < self.fold_from - SESSION_DAYS:
                first_training = self.first_training_day
        if first_day != self.first_day:
            self.days = Days()
            self.first_day, self.first_training_day = first_day, first_training
            self._dirty = first_day
        elif first_training != self.first_training_day:
            moved = [d for d in (first_training, self.first_training_day) if d is not None]
            self.first_training_day = first_training
            self._touch(min(moved))

    def _baseline(self, sessions: Sequence[Kept], j: int) -> float | None:
        """The athlete's median impact for the activity and placement over the previous
        ``baseline_days``, or the session's own (``load.session_loads``)."""
        s = sessions[j]
        since = s["start"] - self.thresholds.load.baseline_days * DAY_MS
        earlier = [
            e["impact_median"]
            for e in window(sessions, j, since)
            if e["activity"] == s["activity"] and e["placement"] == s["placement"]
        ]
        return median(earlier) if any(v is not None for v in earlier) else s["impact_median"]

    # -- days ---------------------------------------------------------------------------
    def _touch(self, day: int) -> None:
        self._dirty = day if self._dirty is None else min(self._dirty, day)

    def _recompute(self, today: int) -> None:
        """Rows up to ``today``: again from the first changed day, and any new days."""
        assert self.first_day is not None
        if self._dirty is not None:
            self.days.truncate(self._dirty - self.first_day)
            self._dirty = None
        self._by_day = {}
        for s in self.sessions:
            self._by_day.setdefault(s["day"], []).append(s)
        for i in range(len(self.days), today - self.first_day + 1):
            self.days.append(self._shapes.freeze(self._day(i)))

    def _day(self, i: int, *, partial: bool = False) -> Row:
        """Day ``i``'s row (``timeline.keyed_timeline`` for one athlete and day). ``partial``:
        the day of ``at``, not over (``hysteresis.hold_today``); its row is not kept, the
        end-of-day row stays."""
        assert self.first_day is not None
        day = self.first_day + i
        sessions = self._by_day.get(day, [])
        row: Row = {"day": day, "_day_index": i}
        for aggregate in self._aggregates:
            row[aggregate.name] = aggregate.over(sessions) if sessions else None
        started = self.first_training_day is not None and day >= self.first_training_day
        row["load"] = (row["load"] or 0.0) if started else None
        row["n_sessions"] = row["n_sessions"] or 0
        row["steps"] = row["steps"] or 0
        trained = [s for s in sessions if s["training"]]
        for rule in self._session_rules:
            worst = _worst(trained, rule)
            for part in ("sev", "value", "threshold"):
                row[rule.column(f"d_{part}")] = None if worst is None else worst[rule.column(f"s_{part}")]
        row["pain_max"] = self._pain_max.get(day)
        for rule_id, spread in self._pain_days.items():
            column = self.thresholds.rule(rule_id).column
            row[column("d_sev")], row[column("d_value")] = spread.get(day, (None, None))

        previous = self.days[i - 1] if i > 0 else None
        load = row["load"]
        for name, alpha in (("_acute", ACUTE_ALPHA), ("_chronic", CHRONIC_ALPHA)):
            before = None if previous is None else previous[name]
            row[name] = load if before is None else (None if load is None else before + alpha * (load - before))
        for name in self._summed:
            row[f"_cum_{name}"] = (0.0 if previous is None else previous[f"_cum_{name}"]) + (row[name] or 0.0)
        row["history_days"] = None if self.first_training_day is None else day - self.first_training_day + 1
        trained_today = row["n_sessions"] > 0
        row["streak"] = ((previous["streak"] if previous else 0) + 1) if trained_today else 0
        row["last_training_row"] = i if trained_today else (previous["last_training_row"] if previous else None)

        rows = self.days.rows
        kept = rows[i - self.days.offset :]  # the day's end-of-day row, when this is its partial form
        del rows[i - self.days.offset :]
        rows.append(row)  # the rules read today through ``days`` too
        try:
            self._judge(i, row, previous, partial=partial)
        finally:
            del rows[i - self.days.offset :]
            if partial:
                rows.extend(kept)
        return row

    def _judge(self, i: int, row: Row, previous: Kept | None, *, partial: bool) -> None:
        """The window columns and every rule's verdict on day ``i``, in the timeline's order."""
        days = self.days
        row["load_7"] = days.rolling_sum(i, "load", 7)
        chronic = row["_chronic"]
        row["acwr"] = row["_acute"] / chronic if chronic is not None and chronic > 0 else None
        row["monotony"] = self._monotony(i) if i >= MONOTONY_DAYS - 1 else None
        row["strain"] = None if row["monotony"] is None else row["load_7"] * row["monotony"]
        for rule in self._rules:
            rule.prepare_row(days, i, row)
            severity, value, threshold = rule.judge_row(days, i, row)
            names = severity_column(rule.rule_id), value_column(rule.rule_id), threshold_column(rule.rule_id)
            if isinstance(rule, AcuteLoadRule):
                holding = value is not None and value >= rule.clear_at()
                row[rule.column("_holding")] = holding
                severity = _latch(rule, severity, holding, previous, names[0])
                threshold = rule.bands().threshold_of(severity)
            row[names[0]] = severity
            row[names[1]] = None if value is None else float(value)
            row[names[2]] = None if threshold is None else float(threshold)
            if partial and previous is not None and previous[names[0]] > severity:
                for name in names:  # the day is not over: yesterday's worse verdict stands until it is
                    row[name] = previous[name]

    def _monotony(self, i: int) -> float | None:
        """``ewma.monotony`` on the last 7 days: mean / population SD, capped; null with a null day."""
        loads = [self.days[j]["load"] for j in range(i - MONOTONY_DAYS + 1, i + 1)]
        if any(x is None for x in loads) or max(loads) <= 0:
            return None
        total = 0.0
        for x in loads:
            total += x
        mean = total / MONOTONY_DAYS
        sd = math.sqrt(sum((x - mean) ** 2 for x in loads) / MONOTONY_DAYS)
        ratio = math.inf if sd == 0 else mean / sd
        return min(ratio, ewma.MONOTONY_CAP)


def _settings(thresholds: Thresholds, tz: str) -> str:
    return hashlib.blake2b(f"{thresholds!r}|{tz}".encode(), digest_size=12).hexdigest()


def _columns(rows: Sequence[Kept]) -> dict[str, list[Any]]:
    """Rows as columns (the keys once), for a compact checkpoint."""
    keys = list(rows[0]) if rows else []
    records = [row for row in rows if isinstance(row, Record) and list(row) == keys]
    if len(records) == len(rows):  # one shape: its values, transposed
        columns = zip(*(record.values_tuple() for record in records), strict=True)
        return {key: list(column) for key, column in zip(keys, columns, strict=True)}
    every = list(dict.fromkeys(k for row in rows for k in row))
    return {k: [row.get(k) for row in rows] for k in every}


def _rows(columns: Mapping[str, list[Any]]) -> list[Row]:
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _latch(rule: AcuteLoadRule, severity: int, holding: bool, previous: Kept | None, column: str) -> int:
    """``hysteresis.latch`` for one day: the worst band reached since the episode began."""
    if not holding:
        return QUIET
    level = QUIET
    for band, _ in rule.bands().levels:  # the highest band at or below the severity
        if severity >= int(band):
            level = int(band)
    earlier = previous[column] if previous is not None and previous[rule.column("_holding")] else QUIET
    return max(level, earlier)


def _order(session: Mapping[str, Any]) -> tuple[int, str, str]:
    return session["start"], session["device"], session["session_id"]


def _worst(sessions: Sequence[Kept], rule: SessionRule) -> Kept | None:
    """The day's worst training session for ``rule`` (``rules._rule.worst_sessions``): by
    severity, then value (null lowest); of equals, the later."""
    worst: Kept | None = None
    worst_key: tuple[int, float] = (0, -math.inf)
    for s in sessions:
        value = s[rule.column("s_value")]
        key = (s[rule.column("s_sev")], -math.inf if value is None else value)
        if worst is None or key >= worst_key:
            worst, worst_key = s, key
    return worst
