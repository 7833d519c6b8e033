"""Per-session features: one row per session, computed once at session end.

The store persists these rows so that scoring never rescans raw steps. `step_features`
computes one session's from its step columns (numpy, a millisecond for a run of 5,000
steps: the service does it at every session's end, from the steps it already holds);
`session_features` does it for every session of a steps frame.

Descent (RULES.md, descent_load): the barometric elevation is smoothed with a
Savitzky-Golay filter and a step is on a descent when the smoothed elevation falls faster
than 2 m per 100 steps. The filter is first order with ``deriv=1``: the slope of the local
least-squares line, ``scipy.signal.savgol_filter(elevation, window, 1, deriv=1,
mode="interp")`` (near the session's edges, the slope of the first or last full window).
A session shorter than the window gets the slope of its whole least-squares line. Gaps in
the elevation are interpolated; steps without elevation are never on a descent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from scipy.signal import savgol_filter

from scoring.schemas import SESSION_FEATURES_SCHEMA, SESSION_KEYS, SESSIONS_SCHEMA

DESCENT_WINDOW_STEPS = 101
DESCENT_DROP_M_PER_100_STEPS = 2.0
DESCENT_FACTOR = 1.5
WARMUP_MS = 180_000
# What `step_features` gives beyond the session's lifecycle fields.
FEATURE_NAMES = tuple(name for name in SESSION_FEATURES_SCHEMA.names() if name not in SESSIONS_SCHEMA)


def descent_slope(elevation: np.ndarray, *, window_steps: int = DESCENT_WINDOW_STEPS) -> np.ndarray:
    """Smoothed elevation slope in metres per step (Savitzky-Golay, order 1, ``deriv=1``); NaN
    where elevation is absent is interpolated, a session without any is flat."""
    n = len(elevation)
    known = ~np.isnan(elevation)
    index = np.arange(n, dtype=float)
    if not known.any():  # most pods measure no elevation: no filter to run
        return np.zeros(n)
    filled = np.interp(index, index[known], elevation[known])
    if n >= window_steps:
        return np.asarray(savgol_filter(filled, window_steps, 1, deriv=1, mode="interp"), dtype=float)
    if n < 2:
        return np.full(n, np.nan)
    centred = index - index.mean()
    return np.full(n, float(np.dot(centred, filled - filled.mean()) / np.dot(centred, centred)))


def step_features(
    steps: Mapping[str, np.ndarray],
    *,
    window_steps: int = DESCENT_WINDOW_STEPS,
    drop_m_per_100_steps: float = DESCENT_DROP_M_PER_100_STEPS,
    descent_factor: float = DESCENT_FACTOR,
    warmup_ms: int = WARMUP_MS,
) -> dict[str, Any]:
    """One session's features (``FEATURE_NAMES``) from its steps in time order: columns ``ts``,
    ``foot`` (0 left, 1 right), ``impact_g``, ``cadence_spm``, ``elevation_m`` (NaN where absent).

    Examples
    --------
    >>> import numpy as np
    >>> row = step_features({"ts": np.array([0, 500, 1000]), "foot": np.array([0, 1, 0]),
    ...     "impact_g": np.array([4.0, 6.0, np.nan]), "cadence_spm": np.full(3, 120.0),
    ...     "elevation_m": np.full(3, np.nan)})
    >>> row["n_steps"], row["n_impact"], row["impact_median"], row["plain_weighted_steps"]
    (3, 2, 5.0, 1.0)
    """
    ts, impact, cadence = steps["ts"], steps["impact_g"], steps["cadence_spm"]
    elevation, right = steps["elevation_m"], steps["foot"] == 1
    n = len(ts)
    if n == 0:
        return {name: None for name in FEATURE_NAMES} | {"n_steps": 0, "n_impact": 0, "descent_steps": 0,
                                                         "impact_weighted_sum": 0.0, "plain_weighted_steps": 0.0}  # fmt: skip
    with np.errstate(invalid="ignore"):  # a NaN slope (a single step) is no descent
        on_descent = (descent_slope(elevation, window_steps=window_steps) < -drop_m_per_100_steps / 100.0) & ~np.isnan(
            elevation
        )
    factor = np.where(on_descent, descent_factor, 1.0)
    has_impact = ~np.isnan(impact)
    third = n // 3
    in_warmup = ts - ts[0] < warmup_ms
    medians = {"cadence": _median(cadence), "impact": _median(impact)}
    warmup = None
    if ts[-1] - ts[0] > warmup_ms:  # cadence alone when there is no impact
        ratios = [_ratio(_mean(x[in_warmup]), medians[name]) for name, x in (("cadence", cadence), ("impact", impact))]
        warmup = max((r for r in ratios if r is not None), default=None)
    return {
        "n_steps": n,
        "n_impact": int(has_impact.sum()),
        "impact_median": medians["impact"],
        "impact_weighted_sum": float(np.sum(impact[has_impact] * factor[has_impact])),
        "plain_weighted_steps": float(np.sum(factor[~has_impact])),
        "descent_steps": int(on_descent.sum()),
        "warmup_ratio": warmup,
        "fatigue_cadence_change": _change(cadence, third),
        "fatigue_impact_change": _change(impact, third),
        "impact_mean_L": _mean(impact[~right]),
        "impact_mean_R": _mean(impact[right]),
        "first_ts": int(ts[0]),
        "last_ts": int(ts[-1]),
        "cadence_median": medians["cadence"],
    }


def session_features(steps: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """One row per session (keys: team, athlete, device, session_id); see ``SESSION_FEATURES_SCHEMA``.

    ``sessions`` and ``steps`` are joined on the keys, so a session with steps but no
    lifecycle row (a rebooted device) still gets a row, with activity "other".
    """
    keys = list(SESSION_KEYS)
    ordered = steps.sort([*keys, "ts"], maintain_order=True)
    columns = {
        "ts": ordered["ts"].to_numpy(),
        "foot": (ordered["foot"] == "R").to_numpy(),
        **{name: ordered[name].cast(pl.Float64).fill_null(np.nan).to_numpy() for name in
           ("impact_g", "cadence_spm", "elevation_m")},
    }  # fmt: skip
    runs = ordered.select(pl.struct(keys).rle_id().alias("run"))["run"].to_numpy()
    starts = np.flatnonzero(np.diff(runs, prepend=-1))
    names = ordered.select(keys)[starts.tolist()].rows()
    stops = [*starts[1:].tolist(), ordered.height] if len(starts) else []
    rows = [
        dict(zip(keys, session, strict=True)) | step_features({name: v[start:stop] for name, v in columns.items()})
        for session, start, stop in zip(names, starts, stops, strict=True)
    ]
    per_session = pl.DataFrame(rows, schema={**{k: pl.String for k in keys}, **_feature_schema()})
    joined = sessions.join(per_session, on=keys, how="full", coalesce=True)
    return (
        joined.with_columns(
            pl.col("activity").fill_null("other"),
            pl.col("n_steps", "n_impact", "descent_steps").fill_null(0),
            pl.col("impact_weighted_sum", "plain_weighted_steps").fill_null(0.0),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in SESSION_FEATURES_SCHEMA.items()])
        .sort(keys)
    )


def _feature_schema() -> dict[str, pl.DataType]:
    return {name: SESSION_FEATURES_SCHEMA[name] for name in FEATURE_NAMES}


def _mean(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else None


def _median(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(np.median(present)) if len(present) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def _change(values: np.ndarray, third: int) -> float | None:
    """Last third's mean over the first third's, less 1: how much it moved in the session."""
    if third == 0:
        return None
    ratio = _ratio(_mean(values[-third:]), _mean(values[:third]))
    return None if ratio is None else ratio - 1.0
