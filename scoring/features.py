"""Per-session features: one row per session, computed once at session end.

The store persists this frame so that scoring never rescans raw steps. Everything is
computed in one vectorised polars pass over all sessions (``group_by`` and window
expressions keyed by session), including the descent detection.

Descent (RULES.md, descent_load): the barometric elevation is smoothed with a
Savitzky-Golay filter and a step is on a descent when the smoothed elevation falls faster
than 2 m per 100 steps. The filter here is first order with ``deriv=1``: its output is the
slope of the local least-squares line, i.e. ``scipy.signal.savgol_filter(elevation, window,
1, deriv=1, mode="interp")``. Its coefficients come from ``scipy.signal.savgol_coeffs`` and
are applied as a weighted rolling sum per session, so no Python runs per session; near the
session edges ``mode="interp"`` uses the slope of the first/last full window, which is what
filling the edge rows from their neighbours gives. A session shorter than the window gets
the slope of its whole least-squares line. Steps without elevation are never on a descent.
"""

from __future__ import annotations

import polars as pl
from scipy.signal import savgol_coeffs

from scoring.schemas import SESSION_FEATURES_SCHEMA, SESSION_KEYS

DESCENT_WINDOW_STEPS = 101
DESCENT_DROP_M_PER_100_STEPS = 2.0
DESCENT_FACTOR = 1.5
WARMUP_MS = 180_000


def descent_slope(
    elevation: pl.Expr, *, window_steps: int = DESCENT_WINDOW_STEPS, over: list[str] | None = None
) -> pl.Expr:
    """Smoothed elevation slope in metres per step (Savitzky-Golay, order 1, ``deriv=1``)."""
    keys = over or list(SESSION_KEYS)
    # Weighted rolling sums refuse nulls: interpolate gaps, and fill sessions without any
    # elevation with 0 (a flat line; those steps are excluded from descents anyway).
    filled = elevation.interpolate().forward_fill().backward_fill().fill_null(0.0).over(keys)
    weights = savgol_coeffs(window_steps, 1, deriv=1, use="dot").tolist()
    windowed = filled.rolling_sum(window_steps, weights=weights, center=True).over(keys)
    index = pl.int_range(pl.len()).cast(pl.Float64)
    whole = (pl.cov(index, filled) / index.var()).over(keys)
    return windowed.forward_fill().backward_fill().over(keys).fill_null(whole)


def session_features(
    steps: pl.DataFrame,
    sessions: pl.DataFrame,
    *,
    window_steps: int = DESCENT_WINDOW_STEPS,
    drop_m_per_100_steps: float = DESCENT_DROP_M_PER_100_STEPS,
    descent_factor: float = DESCENT_FACTOR,
    warmup_ms: int = WARMUP_MS,
) -> pl.DataFrame:
    """One row per session (keys: team, athlete, device, session_id); see ``SESSION_FEATURES_SCHEMA``.

    ``sessions`` and ``steps`` are joined on the keys, so a session with steps but no
    lifecycle row (a rebooted device) still gets a row, with activity "other".

    Examples
    --------
    >>> import polars as pl
    >>> from scoring.schemas import SESSIONS_SCHEMA, STEPS_SCHEMA
    >>> steps = pl.DataFrame(
    ...     {"team": "t", "athlete": "a", "device": "d", "session_id": "s",
    ...      "ts": [0, 500, 1000], "foot": ["L", "R", "L"], "impact_g": [4.0, 6.0, None],
    ...      "cadence_spm": 120.0, "elevation_m": None, "contact_ms": None},
    ...     schema=STEPS_SCHEMA)
    >>> out = session_features(steps, pl.DataFrame(schema=SESSIONS_SCHEMA))
    >>> out.select("activity", "n_steps", "n_impact", "impact_median", "plain_weighted_steps").row(0)
    ('other', 3, 2, 5.0, 1.0)
    """
    keys = list(SESSION_KEYS)
    on_descent = (
        descent_slope(pl.col("elevation_m"), window_steps=window_steps, over=keys) < -drop_m_per_100_steps / 100.0
    ) & pl.col("elevation_m").is_not_null()
    marked = steps.sort([*keys, "ts"]).with_columns(
        on_descent=on_descent,
        factor=pl.when(on_descent).then(descent_factor).otherwise(1.0),
    )

    impact, cadence = pl.col("impact_g"), pl.col("cadence_spm")
    index, third = pl.int_range(pl.len()), pl.len() // 3
    first_third, last_third = index < third, index >= pl.len() - third
    in_warmup = pl.col("ts") - pl.col("ts").min() < warmup_ms

    def change(values: pl.Expr) -> pl.Expr:
        return values.filter(last_third).mean() / values.filter(first_third).mean() - 1.0

    per_session = marked.group_by(keys).agg(
        n_steps=pl.len().cast(pl.Int64),
        n_impact=impact.count().cast(pl.Int64),
        impact_median=impact.median(),
        impact_weighted_sum=(impact * pl.col("factor")).sum(),
        plain_weighted_steps=pl.col("factor").filter(impact.is_null()).sum(),
        descent_steps=pl.col("on_descent").sum().cast(pl.Int64),
        # Cadence alone when there is no impact: max_horizontal skips the null ratio.
        warmup_ratio=pl.when(pl.col("ts").max() - pl.col("ts").min() > warmup_ms).then(
            pl.max_horizontal(
                cadence.filter(in_warmup).mean() / cadence.median(),
                impact.filter(in_warmup).mean() / impact.median(),
            )
        ),
        fatigue_cadence_change=change(cadence),
        fatigue_impact_change=change(impact),
        impact_mean_L=impact.filter(pl.col("foot") == "L").mean(),
        impact_mean_R=impact.filter(pl.col("foot") == "R").mean(),
        first_ts=pl.col("ts").min(),
        last_ts=pl.col("ts").max(),
        cadence_median=cadence.median(),
    )
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
