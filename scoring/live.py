"""In-session evaluation: session_spike, asymmetry and fatigue on every batch of steps.

A coach can stop a session that is going wrong (RULES.md, Overall level): the 1500-jump
session after 400, 400, 700 and 500 is flagged moderate at jump 1051 (1.5 x 700) and high
at jump 1401 (2.0 x 700), before it ends.

``LiveSession`` reads the athlete's history once, at the session's start (the rules'
``session_inputs`` for the new session: its spike reference, impact baseline, usual
symmetry and duration), then keeps running sums, so each batch costs O(batch) plus a
constant: the session rules' own ``judge_session`` expressions on a one-row frame.

The live load leaves out the descent factor: it needs the elevation smoothed over the
whole session. It can only under-estimate the final load, so it never raises a false alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from scoring.reason import Reason
from scoring.rules import SessionRule
from scoring.schemas import SESSION_FEATURES_SCHEMA, STEPS_SCHEMA
from scoring.sessions import judge_sessions
from scoring.severity import Severity
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds

LIVE_RULES = ("session_spike", "asymmetry", "fatigue")
# The session row's columns that change while it streams; the rest comes from history.
LIVE_COLUMNS = pl.Schema(
    {
        "n_steps": pl.Int64(),
        "load": pl.Float64(),
        "impact_mean_L": pl.Float64(),
        "impact_mean_R": pl.Float64(),
        "fatigue_cadence_change": pl.Float64(),
        "fatigue_impact_change": pl.Float64(),
        "duration": pl.Float64(),
    }
)
# Too few steps make a noisy mean: no asymmetry or form verdict before these counts.
MIN_STEPS_PER_FOOT = 30
MIN_STEPS_PER_THIRD = 50


class _Running:
    """Prefix sums of one per-step quantity (nulls skipped), growing by doubling."""

    def __init__(self) -> None:
        self._total = np.zeros(1024)
        self._count = np.zeros(1024)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        while self.n + len(values) + 1 > len(self._total):
            self._total = np.concatenate([self._total, np.zeros(len(self._total))])
            self._count = np.concatenate([self._count, np.zeros(len(self._count))])
        present = ~np.isnan(values)
        stop = self.n + 1 + len(values)
        self._total[self.n + 1 : stop] = self._total[self.n] + np.cumsum(np.where(present, values, 0.0))
        self._count[self.n + 1 : stop] = self._count[self.n] + np.cumsum(present)
        self.n += len(values)

    def mean(self, start: int, stop: int) -> float | None:
        """Mean over steps ``start`` to ``stop - 1``; None without values."""
        count = self._count[stop] - self._count[start]
        return None if count == 0 else float((self._total[stop] - self._total[start]) / count)


class LiveSession:
    """A session in progress, judged on every batch of steps.

    ``history`` is the athlete's stored session features (``SESSION_FEATURES_SCHEMA``);
    ``session`` the new session's lifecycle fields: team, athlete, device, session_id,
    activity, start_ts, and optionally surface, shoe_id, placement.

    Examples
    --------
    >>> from scoring.schemas import SESSION_FEATURES_SCHEMA
    >>> live = LiveSession(history=pl.DataFrame(schema=SESSION_FEATURES_SCHEMA),
    ...     session={"team": "t", "athlete": "a", "device": "d", "session_id": "s",
    ...              "activity": "jump_rope", "start_ts": 0})
    >>> live.update([{"ts": 0, "foot": "L", "cadence_spm": 120.0}])
    ()
    """

    def __init__(
        self,
        *,
        history: pl.DataFrame,
        session: Mapping[str, Any],
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        tz: str = "UTC",
    ) -> None:
        self.thresholds = thresholds
        self._rules = [r for r in thresholds.rules() if r.rule_id in LIVE_RULES and isinstance(r, SessionRule)]
        # Built once: making the expressions costs as much as evaluating them on one row.
        self._verdicts = [
            pl.struct(severity=v.severity, value=v.value, threshold=v.threshold).alias(rule.rule_id)
            for rule in self._rules
            for v in [rule.judge_session()]
        ]
        placeholder = {**dict.fromkeys(SESSION_FEATURES_SCHEMA.names()), **session, "n_steps": 0}
        placeholder.setdefault("activity", "other")
        now = pl.DataFrame([placeholder], schema=SESSION_FEATURES_SCHEMA)
        past = history.select(SESSION_FEATURES_SCHEMA.names()).filter(
            pl.coalesce("start_ts", "first_ts") < session["start_ts"]
        )
        judged = judge_sessions(pl.concat([past, now]), thresholds=thresholds, tz=tz)
        # Everything the history says about this session: its row after the earlier ones.
        self._context = judged.filter(pl.col("session_id") == session["session_id"]).drop(LIVE_COLUMNS.names())
        baseline = self._context["baseline_g"][0]
        self._baseline: float | None = baseline
        self._load = 0.0
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._feet = {foot: _Running() for foot in ("L", "R")}
        self._cadence, self._impact = _Running(), _Running()
        self.reasons: tuple[Reason, ...] = ()

    @property
    def steps(self) -> int:
        """Steps (or jumps) so far."""
        return self._cadence.n

    def update(self, batch: pl.DataFrame | Sequence[Mapping[str, Any]]) -> tuple[Reason, ...]:
        """Add a batch of steps (a frame or the wire's step dicts, in time order); the live reasons."""
        self.add(batch)
        judge_together([self])
        return self.reasons

    def add(self, batch: pl.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Add a batch of steps without judging: `judge_together` then judges many sessions at once."""
        frame = batch if isinstance(batch, pl.DataFrame) else pl.DataFrame(batch, schema_overrides=STEPS_SCHEMA)
        if frame.is_empty():
            return
        impact = (
            frame["impact_g"].to_numpy().astype(float) if "impact_g" in frame.columns else np.full(frame.height, np.nan)
        )
        self.add_columns(frame["ts"].to_numpy(), frame["foot"].to_numpy(), impact, frame["cadence_spm"].to_numpy())

    def add_columns(self, ts: np.ndarray, foot: np.ndarray, impact: np.ndarray, cadence_spm: np.ndarray) -> None:
        """`add` for steps already in numpy columns (foot "L"/"R", impact NaN where absent): no frame to build."""
        if not len(ts):
            return
        self._first_ts = int(ts[0]) if self._first_ts is None else self._first_ts
        self._last_ts = int(ts[-1])
        weighted = 1.0 if self._baseline is None else np.where(np.isnan(impact), 1.0, impact / self._baseline)
        self._load += float(np.sum(np.broadcast_to(weighted, impact.shape)))
        for side, running in self._feet.items():
            running.extend(impact[foot == side])
        self._cadence.extend(cadence_spm.astype(float))
        self._impact.extend(impact)

    def _live(self) -> list[Any]:
        """The session's ``LIVE_COLUMNS`` so far."""
        n, third = self.steps, self.steps // 3

        def change(running: _Running) -> float | None:
            first, last = running.mean(0, third), running.mean(n - third, n)
            if third < MIN_STEPS_PER_THIRD or first is None or last is None:
                return None
            return last / first - 1.0

        def foot_mean(side: str) -> float | None:
            running = self._feet[side]
            return running.mean(0, running.n) if running.n >= MIN_STEPS_PER_FOOT else None

        elapsed = None if self._first_ts is None or self._last_ts is None else (self._last_ts - self._first_ts) / 1000.0
        return [n, self._load, foot_mean("L"), foot_mean("R"), change(self._cadence), change(self._impact), elapsed]

    def _reasons_from(self, verdicts: Mapping[str, Any]) -> tuple[Reason, ...]:
        reasons = [
            rule.reason(Severity(v["severity"]), v["value"], v["threshold"])
            for rule in self._rules
            if (v := verdicts[rule.rule_id])["severity"]
        ]
        return tuple(sorted(reasons, key=lambda r: -r.severity))


def judge_together(sessions: Sequence[LiveSession]) -> None:
    """Judge many live sessions in one polars pass per set of thresholds and set each one's
    ``reasons``: one ``select`` costs about as much for a thousand rows as for one."""
    groups: dict[Thresholds, list[LiveSession]] = {}
    for session in sessions:
        groups.setdefault(session.thresholds, []).append(session)
    for group in groups.values():
        # One frame of the sessions' rows, in one chunk: a frame of many one-row chunks evaluates
        # each expression chunk by chunk, some 200x slower.
        context = pl.concat([session._context for session in group], how="vertical_relaxed", rechunk=True)
        rows = context.hstack(pl.DataFrame([session._live() for session in group], schema=LIVE_COLUMNS, orient="row"))
        for session, verdicts in zip(group, rows.select(group[0]._verdicts).iter_rows(named=True), strict=True):
            session.reasons = session._reasons_from(verdicts)
