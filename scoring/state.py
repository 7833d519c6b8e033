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
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from scoring import ewma
from scoring.assess import Assessment
from scoring.level import level_and_score
from scoring.load import training_aggregates
from scoring.rows import Days, Pain, Row, median, window
from scoring.rules import AcuteLoadRule, Rule, SessionRule
from scoring.rules._rule import severity_column
from scoring.schemas import DAY_MS, SESSION_FEATURES_SCHEMA
from scoring.severity import QUIET, Severity
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from scoring.timeline import threshold_column, value_column

ACUTE_ALPHA = 2.0 / (ewma.ACUTE_DAYS + 1)
CHRONIC_ALPHA = 2.0 / (ewma.CHRONIC_DAYS + 1)
MONOTONY_DAYS = ewma.ACUTE_DAYS
FEATURES = tuple(SESSION_FEATURES_SCHEMA.names())


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
    sessions: list[Row] = field(default_factory=list)  # judged, by start, device, session_id
    pain: list[Pain] = field(default_factory=list)  # by ts
    days: Days = field(default_factory=Days)
    first_day: int | None = None
    first_training_day: int | None = None
    _zone: dt.tzinfo = field(init=False, repr=False)
    _rules: tuple[Rule, ...] = field(init=False, repr=False)
    _dirty: int | None = field(default=None, init=False, repr=False)  # the first day to recompute
    _pain_days: dict[str, dict[int, tuple[int, float]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._zone = _zone(self.tz)
        self._rules = self.thresholds.rules()
        self._aggregates = [*training_aggregates(), *(a for r in self._rules for a in r.day_inputs())]
        self._session_rules = [r for r in self._rules if isinstance(r, SessionRule)]
        # Float sums over windows keep running totals (``Days.rolling_sum``).
        self._summed = [a.name for a in self._aggregates if a.how == "sum" and a.dtype is None]
        self._by_day: dict[int, list[Row]] = {}
        self._spread_pain()

    # -- events -----------------------------------------------------------------------
    def add_session(self, features: Mapping[str, Any]) -> None:
        """Fold in an ended session (a row of ``SESSION_FEATURES_SCHEMA``); a session already
        folded (same device and session id) is replaced, e.g. when late steps changed it."""
        row: Row = {name: features.get(name) for name in FEATURES}
        start = _first(row["start_ts"], row["first_ts"])
        old = self._index_of(row["device"], row["session_id"])
        if old is not None:
            self._touch(self.sessions.pop(old)["day"])
        if start is None:  # no time at all: it cannot be placed on a calendar (``session_loads``)
            if old is not None:
                self._rejudge(old)
            return
        load = self.thresholds.load
        row.update(
            start=start,
            end=_first(row["end_ts"], row["last_ts"], start),
            day=_ordinal_day(start, self._zone),
            duration=_first(
                row["duration_s"],
                None
                if row["last_ts"] is None or row["first_ts"] is None
                else (row["last_ts"] - row["first_ts"]) / 1000.0,
            ),
            training=row["activity"] in load.activities,
        )
        where = bisect.bisect_right([_order(s) for s in self.sessions], _order(row))
        self.sessions.insert(where, row)
        self._rejudge(where if old is None else min(where, old))

    def add_pain(self, reports: Iterable[Mapping[str, Any]]) -> None:
        """Fold in pain entries (rows of ``WELLNESS_SCHEMA``); an entry already folded is ignored."""
        known = set(self.pain)
        for report in reports:
            entry = Pain(
                ts=report["ts"],
                day=_ordinal_day(report["ts"], self._zone),
                site=report["site"],
                side=report["side"],
                score=report["score"],
                kind=report["kind"],
            )
            if entry in known:
                continue
            known.add(entry)
            bisect.insort(self.pain, entry, key=lambda p: p.ts)
            self._touch(entry.day)
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
            rule.reason(Severity(sev), row[value_column(rule.rule_id)], row[threshold_column(rule.rule_id)])
            for rule in self._rules
            if (sev := row[severity_column(rule.rule_id)])
        ]
        reasons.sort(key=lambda r: -r.severity)
        level, score = level_and_score([r.severity for r in reasons])
        return Assessment(team=self.team, athlete=self.athlete, ts=at, level=level, score=score, reasons=tuple(reasons))

    def _spread_pain(self) -> None:
        """The days each pain rule holds on, from every report (they are few)."""
        self._pain_days = {
            rule.rule_id: days for rule in self._rules if (days := rule.pain_days(self.pain)) is not None
        }

    # -- sessions -----------------------------------------------------------------------
    def _index_of(self, device: str, session_id: str) -> int | None:
        for i, s in enumerate(self.sessions):
            if s["device"] == device and s["session_id"] == session_id:
                return i
        return None

    def _rejudge(self, start: int) -> None:
        """Judge the sessions from index ``start`` on again: each reads only the ones before it."""
        for j in range(start, len(self.sessions)):
            session = self.sessions[j]
            session["baseline_g"] = self._baseline(j)
            weighted = session["impact_weighted_sum"]
            share = None if weighted is None or session["baseline_g"] is None else weighted / session["baseline_g"]
            session["load"] = (share if share is not None else 0.0) + session["plain_weighted_steps"]
            for rule in self._rules:
                session.update(rule.session_values(self.sessions, j))
            for rule in self._session_rules:
                severity, value, threshold = rule.judge_session_row(session)
                trained = session["training"]
                session[rule.column("s_sev")] = severity if trained else QUIET
                session[rule.column("s_value")] = value if trained else None
                session[rule.column("s_threshold")] = threshold if trained else None
            self._touch(session["day"])
        self._reset_first_days()

    def _reset_first_days(self) -> None:
        """The calendar starts on the first record day, and history counts from the first
        training day: when either moves, every row moves with it."""
        first_day = min([*(s["day"] for s in self.sessions), *(p.day for p in self.pain)], default=None)
        first_training = min((s["day"] for s in self.sessions if s["training"]), default=None)
        if first_day != self.first_day or first_training != self.first_training_day:
            self.days = Days()  # every row's index or history_days moves: recompute them all
            self.first_day, self.first_training_day = first_day, first_training
            self._dirty = first_day

    def _baseline(self, j: int) -> float | None:
        """The athlete's median impact for the activity and placement over the previous
        ``baseline_days``, or the session's own (``load.session_loads``)."""
        s = self.sessions[j]
        since = s["start"] - self.thresholds.load.baseline_days * DAY_MS
        earlier = [
            e["impact_median"]
            for e in window(self.sessions, j, since)
            if e["activity"] == s["activity"] and e["placement"] == s["placement"]
        ]
        return median(earlier) if any(v is not None for v in earlier) else s["impact_median"]

    # -- days ---------------------------------------------------------------------------
    def _touch(self, day: int) -> None:
        self._dirty = day if self._dirty is None else min(self._dirty, day)

    def _recompute(self, today: int) -> None:
        """Rows up to ``today``: again from the first changed day, and any new days."""
        assert self.first_day is not None
        rows = self.days.rows
        if self._dirty is not None:
            del rows[max(self._dirty - self.first_day, 0) :]
            self._dirty = None
        self._by_day = {}
        for s in self.sessions:
            self._by_day.setdefault(s["day"], []).append(s)
        for i in range(len(rows), today - self.first_day + 1):
            rows.append(self._day(i))

    def _day(self, i: int, *, partial: bool = False) -> Row:
        """Day ``i``'s row (``timeline.keyed_timeline`` for one athlete and day). ``partial``:
        the day of ``at``, not over (``hysteresis.hold_today``); its row is not kept, the
        end-of-day row stays."""
        assert self.first_day is not None
        day = self.first_day + i
        rows = self.days.rows
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
        row["pain_max"] = max((p.score for p in self.pain if p.day == day), default=None)
        for rule_id, spread in self._pain_days.items():
            column = self.thresholds.rule(rule_id).column
            row[column("d_sev")], row[column("d_value")] = spread.get(day, (None, None))

        previous = rows[i - 1] if i > 0 else None
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

        kept = rows[i:]
        del rows[i:]
        rows.append(row)  # the rules read today through ``days`` too
        try:
            self._judge(i, row, previous, partial=partial)
        finally:
            del rows[i:]
            if partial:
                rows.extend(kept)  # the day's end-of-day row stays
        return row

    def _judge(self, i: int, row: Row, previous: Row | None, *, partial: bool) -> None:
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
        loads = [self.days.rows[j]["load"] for j in range(i - MONOTONY_DAYS + 1, i + 1)]
        if any(x is None for x in loads) or max(loads) <= 0:
            return None
        total = 0.0
        for x in loads:
            total += x
        mean = total / MONOTONY_DAYS
        sd = math.sqrt(sum((x - mean) ** 2 for x in loads) / MONOTONY_DAYS)
        ratio = math.inf if sd == 0 else mean / sd
        return min(ratio, ewma.MONOTONY_CAP)


def _latch(rule: AcuteLoadRule, severity: int, holding: bool, previous: Row | None, column: str) -> int:
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


def _worst(sessions: Sequence[Row], rule: SessionRule) -> Row | None:
    """The day's worst training session for ``rule`` (``rules._rule.worst_sessions``): by
    severity, then value (null lowest); of equals, the later."""
    worst: Row | None = None
    worst_key: tuple[int, float] = (0, -math.inf)
    for s in sessions:
        value = s[rule.column("s_value")]
        key = (s[rule.column("s_sev")], -math.inf if value is None else value)
        if worst is None or key >= worst_key:
            worst, worst_key = s, key
    return worst
