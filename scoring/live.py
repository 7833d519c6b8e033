"""In-session evaluation: longest_session, asymmetry and fatigue on every batch of steps.

A coach can stop a session that is going wrong (RULES.md, Overall level): the 1500-jump
session after 400, 400, 700 and 500 is flagged moderate at jump 771 (1.1 x 700) and high
at jump 1401 (2.0 x 700), before it ends.

``LiveSession`` takes what the athlete's history says of the new session once, at its
start, from the athlete's state (``AthleteState.session_context``: its longest-session
references, impact baseline, usual symmetry and duration), then keeps running sums, so
each batch costs O(batch) plus a constant: the session rules' own ``judge_session_row``
on the session's row so far.

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
from scoring.schemas import STEPS_SCHEMA
from scoring.severity import Severity
from scoring.state import AthleteState

LIVE_RULES = ("longest_session", "session_spike", "asymmetry", "fatigue")
# The session row's columns that change while it streams; the rest comes from the athlete's state.
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
    """Prefix sums of one per-step quantity and of how many are present (NaN: absent), in one
    array growing by doubling."""

    def __init__(self) -> None:
        self._sums = np.zeros((1024, 2))  # running total, running count; row k: the first k steps
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        stop = self.n + 1 + len(values)
        while stop > len(self._sums):
            self._sums = np.concatenate([self._sums, np.zeros_like(self._sums)])
        present = ~np.isnan(values)
        added = np.column_stack((np.where(present, values, 0.0), present))
        self._sums[self.n + 1 : stop] = self._sums[self.n] + np.cumsum(added, axis=0)
        self.n += len(values)

    def mean(self, start: int, stop: int) -> float | None:
        """Mean over steps ``start`` to ``stop - 1``; None without values."""
        total, count = self._sums[stop] - self._sums[start]
        return None if count == 0 else float(total / count)


class LiveSession:
    """A session in progress, judged on every batch of steps.

    ``state`` is the athlete's (`scoring.state.AthleteState`); ``session`` the new
    session's lifecycle fields: device, session_id, activity, start_ts, and optionally
    surface, shoe_id, placement.

    Examples
    --------
    >>> from scoring.state import AthleteState
    >>> live = LiveSession(AthleteState(team="t", athlete="a"),
    ...     {"device": "d", "session_id": "s", "activity": "jump_rope", "start_ts": 0})
    >>> live.update([{"ts": 0, "foot": "L", "cadence_spm": 120.0}])
    ()
    """

    def __init__(self, state: AthleteState, session: Mapping[str, Any]) -> None:
        self.thresholds = state.thresholds
        self._rules = [r for r in state.thresholds.rules() if r.rule_id in LIVE_RULES and isinstance(r, SessionRule)]
        self._context = state.session_context(session)
        self._baseline: float | None = self._context["baseline_g"]
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

    @property
    def last_ts(self) -> int | None:
        """The time of the latest step, epoch ms; None before the first."""
        return self._last_ts

    def update(self, batch: pl.DataFrame | Sequence[Mapping[str, Any]]) -> tuple[Reason, ...]:
        """Add a batch of steps (a frame or the wire's step dicts, in time order); the live reasons."""
        self.add(batch)
        return self.judge()

    def add(self, batch: pl.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Add a batch of steps without judging (`judge` once several have come)."""
        frame = batch if isinstance(batch, pl.DataFrame) else pl.DataFrame(batch, schema_overrides=STEPS_SCHEMA)
        if frame.is_empty():
            return
        impact = (
            frame["impact_g"].to_numpy().astype(float) if "impact_g" in frame.columns else np.full(frame.height, np.nan)
        )
        left = frame["foot"].to_numpy() == "L"
        self.add_columns(frame["ts"].to_numpy(), left, impact, frame["cadence_spm"].to_numpy().astype(float))

    def add_columns(self, ts: np.ndarray, left: np.ndarray, impact: np.ndarray, cadence: np.ndarray) -> None:
        """`add` for a batch as numpy columns (times, left foot, impact_g and cadence with NaN where
        absent): what the service has after unpacking a stored batch, with no frame to build."""
        if not len(ts):
            return
        self._first_ts = int(ts[0]) if self._first_ts is None else self._first_ts
        self._last_ts = int(ts[-1])
        weighted = 1.0 if self._baseline is None else np.where(np.isnan(impact), 1.0, impact / self._baseline)
        self._load += float(np.sum(np.broadcast_to(weighted, impact.shape)))
        for side, running in self._feet.items():
            running.extend(impact[left if side == "L" else ~left])
        self._cadence.extend(cadence)
        self._impact.extend(impact)

    def judge(self) -> tuple[Reason, ...]:
        """The live reasons of the session so far (``reasons``), worst first."""
        if not self._context["training"]:  # walks and strength are no training load: never judged
            return self.reasons
        row = self._context | self._live()
        # Steps are no sRPE load, and a session's rating comes only at its end.
        rules = [r for r in self._rules if not (r.reads_load and row["measure"] == "srpe")]
        verdicts = [(rule, rule.judge_session_row(row)) for rule in rules]
        reasons = [
            rule.reason(Severity(sev), value, threshold, row["measure"])
            for rule, (sev, value, threshold) in verdicts
            if sev and value is not None and threshold is not None
        ]
        self.reasons = tuple(sorted(reasons, key=lambda r: -r.severity))
        return self.reasons

    def _live(self) -> dict[str, Any]:
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
        live = [n, self._load, foot_mean("L"), foot_mean("R"), change(self._cadence), change(self._impact), elapsed]
        return dict(zip(LIVE_COLUMNS.names(), live, strict=True))
