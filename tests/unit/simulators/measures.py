"""RULES.md's raw measures, recomputed here from generated messages, independently of scoring/.

The simulator tests use them to show each scenario carries what its rules look for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from scipy.signal import savgol_filter

from simulators import Message

HARD = {"asphalt", "concrete", "tiles"}


@dataclass
class Session:
    athlete: str
    device: str
    session_id: str
    start: dict[str, Any] = field(default_factory=dict)
    end: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    _columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def column(self, name: str) -> np.ndarray:
        """A step field as floats (NaN where absent), built once."""
        if name not in self._columns:
            self._columns[name] = np.array([r.get(name, np.nan) for r in self.rows], dtype=float)
        return self._columns[name]

    @property
    def ts(self) -> np.ndarray:
        return self.column("ts").astype(np.int64)

    @property
    def left(self) -> np.ndarray:
        if "left" not in self._columns:
            self._columns["left"] = np.array([r["foot"] == "L" for r in self.rows])
        return self._columns["left"]

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.start["ts"] / 1000, UTC).date()


def sessions(messages: Iterable[Message]) -> list[Session]:
    """Sessions in start order, with their steps, from valid messages."""
    found: dict[tuple[str, str], Session] = {}
    for m in messages:
        if m.stream not in ("session", "steps"):
            continue
        _, _, _team, athlete, device, _ = m.topic.split("/")
        payload = json.loads(m.payload)
        s = found.setdefault((athlete, payload["session_id"]), Session(athlete, device, payload["session_id"]))
        if m.stream == "session":
            setattr(s, payload["event"], payload)
        else:
            s.rows += payload["steps"]
    return sorted(found.values(), key=lambda s: int(s.start["ts"]))


def wellness(messages: Iterable[Message]) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in messages if m.stream == "wellness"]


def descent_share(s: Session) -> float:
    """Share of steps on a descent: smoothed barometric elevation falling > 2 m per 100 steps."""
    slope = savgol_filter(s.column("elevation_m"), 51, 2, deriv=1)
    return float(np.mean(slope < -0.02))


def warmup_ratios(s: Session) -> tuple[float, float]:
    """Mean cadence and impact of the first 3 minutes over the session's medians."""
    first = s.ts < s.ts[0] + 180_000
    cadence, impact = s.column("cadence_spm"), s.column("impact_g")
    return cadence[first].mean() / np.median(cadence), impact[first].mean() / np.median(impact)


def symmetry_index(s: Session) -> float:
    impact = s.column("impact_g")
    left, right = impact[s.left].mean(), impact[~s.left].mean()
    return float(100 * abs(left - right) / ((left + right) / 2))


def thirds(s: Session) -> tuple[float, float]:
    """Change of cadence and of impact, last third of the session over the first third."""
    n = len(s.rows) // 3
    cadence, impact = s.column("cadence_spm"), s.column("impact_g")
    return cadence[-n:].mean() / cadence[:n].mean() - 1, impact[-n:].mean() / impact[:n].mean() - 1


def step_loads(s: Session, baseline_g: float) -> np.ndarray:
    """Each step's load: impact over the athlete's baseline, x1.5 on a descent (1.0 without impact)."""
    impact = s.column("impact_g")
    load = np.ones(len(impact)) if np.isnan(impact).all() else impact / baseline_g
    if len(impact) > 51 and not np.isnan(s.column("elevation_m")).any():
        load = load * np.where(savgol_filter(s.column("elevation_m"), 51, 2, deriv=1) < -0.02, 1.5, 1.0)
    return load


def session_loads(all_sessions: list[Session]) -> list[np.ndarray]:
    """Per-step loads of each session, against the median impact of the previous 28 days."""
    out = []
    for i, s in enumerate(all_sessions):
        before = [p for p in all_sessions[:i] if 0 < (s.day - p.day).days <= 28]
        history = np.concatenate([p.column("impact_g") for p in before]) if before else s.column("impact_g")
        out.append(step_loads(s, float(np.nanmedian(history)) if not np.isnan(history).all() else 1.0))
    return out


def daily_loads(all_sessions: list[Session]) -> np.ndarray:
    """Load per calendar day (UTC), rest days 0, from the first session's day."""
    first = all_sessions[0].day
    loads = np.zeros((all_sessions[-1].day - first).days + 1)
    for s, load in zip(all_sessions, session_loads(all_sessions), strict=True):
        loads[(s.day - first).days] += load.sum()
    return loads


def ewma_acwr(loads: np.ndarray) -> np.ndarray:
    """Williams et al. 2017 EWMA acute:chronic ratio, seeded with the first day's load."""
    acute = chronic = loads[0]
    out = [1.0]
    for x in loads[1:]:
        acute = 0.25 * x + 0.75 * acute
        chronic = 2 / 29 * x + (1 - 2 / 29) * chronic
        out.append(acute / chronic)
    return np.array(out)


def spike_ratios(all_sessions: list[Session]) -> list[float]:
    """Each session's load over the largest of the previous 4 of its activity within 28 days."""
    loads = [load.sum() for load in session_loads(all_sessions)]
    ratios = []
    for i, s in enumerate(all_sessions):
        recent = [
            loads[j]
            for j, p in enumerate(all_sessions[:i])
            if p.start["activity"] == s.start["activity"] and (s.day - p.day).days <= 28
        ][-4:]
        if recent:
            ratios.append(float(loads[i] / max(recent)))
    return ratios
