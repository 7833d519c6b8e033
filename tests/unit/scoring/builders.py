"""Hand-built frames for the scoring tests: sessions as stored features, steps, pain reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from scoring.schemas import DAY_MS, SESSION_FEATURES_SCHEMA, SESSIONS_SCHEMA, STEPS_SCHEMA, WELLNESS_SCHEMA

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000


def day_ts(day: int, hour: float = 7.0) -> int:
    """Epoch ms of ``hour`` o'clock UTC on day ``day`` after T0."""
    return T0 + day * DAY_MS + int(hour * HOUR)


def feature(
    day: int, steps: float, *, athlete: str = "a", team: str = "t", hour: float = 7.0, **columns: Any
) -> dict[str, Any]:
    """A stored session on ``day`` whose load is ``steps`` (cadence-only: every step counts 1.0)."""
    start = day_ts(day, hour)
    n = int(steps)
    row: dict[str, Any] = dict.fromkeys(SESSION_FEATURES_SCHEMA.names())
    row.update(
        team=team,
        athlete=athlete,
        device="d1",
        session_id=f"{athlete}-{day}-{hour}",
        activity="run",
        start_ts=start,
        end_ts=start + 30 * 60_000,
        duration_s=1800.0,
        n_steps=n,
        n_impact=0,
        impact_weighted_sum=0.0,
        plain_weighted_steps=float(steps),
        descent_steps=0,
        first_ts=start,
        last_ts=start + 30 * 60_000,
    )
    row.update(columns)
    return row


def features(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SESSION_FEATURES_SCHEMA)


def daily(loads: Sequence[float], *, athlete: str = "a", team: str = "t", **columns: Any) -> pl.DataFrame:
    """One session a day with these loads; a 0 is a rest day (no session)."""
    return features([feature(d, x, athlete=athlete, team=team, **columns) for d, x in enumerate(loads) if x > 0])


def pain(
    day: int,
    site: str,
    score: int,
    *,
    kind: str = "ache",
    side: str = "L",
    athlete: str = "a",
    team: str = "t",
    hour: float = 20.0,
) -> dict[str, Any]:
    return {
        "team": team,
        "athlete": athlete,
        "ts": day_ts(day, hour),
        "site": site,
        "side": side,
        "score": score,
        "kind": kind,
    }


def wellness(rows: Sequence[dict[str, Any]] = ()) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=WELLNESS_SCHEMA)


def steps(
    n: int,
    *,
    start_ts: int,
    session_id: str = "s",
    athlete: str = "a",
    team: str = "t",
    cadence: float | Sequence[float] = 120.0,
    impact: float | Sequence[float] | None = 5.0,
    elevation: Sequence[float] | None = None,
    feet: str = "LR",
) -> pl.DataFrame:
    """``n`` steps at ``cadence`` steps a minute; feet alternate through ``feet``."""
    cad = np.broadcast_to(np.asarray(cadence, dtype=float), (n,))
    ts = start_ts + np.concatenate([[0.0], np.cumsum(60_000.0 / cad[:-1])]).astype(np.int64)
    return pl.DataFrame(
        {
            "team": team,
            "athlete": athlete,
            "device": "d1",
            "session_id": session_id,
            "ts": ts,
            "foot": [feet[i % len(feet)] for i in range(n)],
            "impact_g": None if impact is None else np.broadcast_to(np.asarray(impact, dtype=float), (n,)),
            "cadence_spm": cad,
            "elevation_m": None if elevation is None else np.asarray(elevation, dtype=float),
            "contact_ms": None,
        },
        schema=STEPS_SCHEMA,
    )


def session(session_id: str, *, start_ts: int, athlete: str = "a", team: str = "t", **columns: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SESSIONS_SCHEMA.names())
    row.update(team=team, athlete=athlete, device="d1", session_id=session_id, activity="run", start_ts=start_ts)
    row.update(columns)
    return row


def sessions(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SESSIONS_SCHEMA)


def end_of(day: int) -> int:
    """The last millisecond of day ``day`` (UTC): scoring then sees the whole day."""
    return T0 + (day + 1) * DAY_MS - 1


def days_of(
    sessions_frame: pl.DataFrame,
    pain_frame: pl.DataFrame | None = None,
    *,
    until: int,
    thresholds: Any = None,
    athlete: str = "a",
) -> dict[int, dict[str, Any]]:
    """The timeline of one athlete as of the end of day ``until``, keyed by day number."""
    from scoring.thresholds import DEFAULT_THRESHOLDS
    from scoring.timeline import timeline

    frame = timeline(
        sessions_frame,
        wellness() if pain_frame is None else pain_frame,
        at=end_of(until),
        thresholds=thresholds or DEFAULT_THRESHOLDS,
    ).filter(pl.col("athlete") == athlete)
    start = frame["day"].min()
    return {
        (row["day"] - start).days + _offset(sessions_frame, pain_frame, athlete): row
        for row in frame.iter_rows(named=True)
    }


def _offset(sessions_frame: pl.DataFrame, pain_frame: pl.DataFrame | None, athlete: str) -> int:
    """Day number of the athlete's first calendar day."""
    firsts = [
        ts
        for frame, column in ((sessions_frame, "start_ts"), (pain_frame, "ts"))
        if frame is not None
        for ts in [frame.filter(pl.col("athlete") == athlete)[column].min()]
        if isinstance(ts, int)
    ]
    return (min(firsts) - T0) // DAY_MS


def verdict(row: dict[str, Any], rule: str) -> tuple[str | None, float | None, float | None]:
    """(severity label or None, value, threshold) of ``rule`` on a timeline row."""
    from scoring.severity import Severity

    rank = row[f"{rule}__severity"]
    label = Severity(rank).label if rank else None
    return label, row[f"{rule}__value"], row[f"{rule}__threshold"]


def severity(row: dict[str, Any], rule: str) -> str | None:
    return verdict(row, rule)[0]
