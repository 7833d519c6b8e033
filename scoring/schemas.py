"""Column schemas of the frames the scoring core reads and the one the store persists.

Times are Int64 milliseconds since the Unix epoch, UTC, exactly as on the wire.
"""

from __future__ import annotations

import polars as pl

ATHLETE_KEYS = ("team", "athlete")
SESSION_KEYS = ("team", "athlete", "device", "session_id")
DAY_MS = 86_400_000

STEPS_SCHEMA = pl.Schema(
    {
        "team": pl.String,
        "athlete": pl.String,
        "device": pl.String,
        "session_id": pl.String,
        "ts": pl.Int64,
        "foot": pl.String,
        "impact_g": pl.Float64,
        "cadence_spm": pl.Float64,
        "elevation_m": pl.Float64,
        "contact_ms": pl.Float64,
    }
)

SESSIONS_SCHEMA = pl.Schema(
    {
        "team": pl.String,
        "athlete": pl.String,
        "device": pl.String,
        "session_id": pl.String,
        "activity": pl.String,
        "surface": pl.String,
        "shoe_id": pl.String,
        "placement": pl.String,
        "start_ts": pl.Int64,
        "end_ts": pl.Int64,
        "duration_s": pl.Float64,
        "distance_m": pl.Float64,
        "rpe": pl.Float64,  # CR-10, rated at the end; session-RPE load is rpe x minutes
    }
)

WELLNESS_SCHEMA = pl.Schema(
    {
        "team": pl.String,
        "athlete": pl.String,
        "ts": pl.Int64,
        "site": pl.String,
        "side": pl.String,
        "score": pl.Int64,
        "kind": pl.String,
    }
)

# What `features.session_features` returns and the store persists at session end.
SESSION_FEATURES_SCHEMA = pl.Schema(
    [
        *SESSIONS_SCHEMA.items(),
        ("n_steps", pl.Int64()),
        ("n_impact", pl.Int64()),
        ("impact_median", pl.Float64()),
        ("impact_weighted_sum", pl.Float64()),
        ("plain_weighted_steps", pl.Float64()),
        ("descent_steps", pl.Int64()),
        ("warmup_ratio", pl.Float64()),
        ("fatigue_cadence_change", pl.Float64()),
        ("fatigue_impact_change", pl.Float64()),
        ("impact_mean_L", pl.Float64()),
        ("impact_mean_R", pl.Float64()),
        ("first_ts", pl.Int64()),
        ("last_ts", pl.Int64()),
        ("cadence_median", pl.Float64()),  # steps a minute; what the coach's cadence chart shows
    ]
)
