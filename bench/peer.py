"""The peer: the PyPI package ``acwr`` (pandas) computing EWMA ACWR and monotony per athlete.

Configured to our conventions (scoring.ewma): ``method="ewma", decay="span"`` is lambda =
2/(N+1) with N = 7 and 28, and ``min_periods=1`` seeds both EWMAs with the first day (its
default waits 7 / 28 days before giving a value); ``monotony(ddof=0)`` is the population
SD (its default is the sample SD, ``ddof=1``). What stays different, and is compared
accordingly: where the chronic load is 0 it gives inf/NaN and we give null; for a week of
identical loads its monotony is inf and ours is capped at ``MONOTONY_CAP`` (10); for a week
without load it is NaN and ours null. Its calendar ends at each athlete's last session,
ours at the scoring time: only the days both have are compared.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import polars as pl

from scoring.ewma import MONOTONY_CAP

TOLERANCE = 1e-6


def activities(judged: pl.DataFrame) -> Any:
    """The peer's input: one row per training session (athlete, date, load), as pandas."""
    import pandas as pd

    training = judged.filter(pl.col("training")).select("athlete", "day", "load")
    return pd.DataFrame(
        {
            "athlete": training["athlete"].to_numpy(),
            "date": training["day"].to_numpy().astype("datetime64[ns]"),
            "load": training["load"].to_numpy(),
        }
    )


def run(frame: Any) -> tuple[pl.DataFrame, float]:
    """The peer's ACWR and monotony for every athlete and day, and the seconds it took."""
    import acwr

    def both(load: Any) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {
                "acwr": acwr.acwr(load, method="ewma", decay="span", min_periods=1),
                "monotony": acwr.monotony(load, window=7, ddof=0),
            }
        )

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divisions by a zero chronic load
        out = acwr.by_athlete(frame, both)
    seconds = time.perf_counter() - started
    result = pl.DataFrame(
        {
            "athlete": out["athlete"].to_numpy().astype(str),
            "day": out["date"].to_numpy().astype("datetime64[D]"),
            "acwr_peer": out["acwr"].to_numpy(dtype=np.float64),
            "monotony_peer": out["monotony"].to_numpy(dtype=np.float64),
        }
    )
    return result, seconds


def compare(ours: pl.DataFrame, peer: pl.DataFrame) -> dict[str, Any]:
    """Agreement of our ``acwr``/``monotony`` (athlete, day, acwr, monotony) with the peer's.

    A value agrees when both are defined and within ``TOLERANCE`` (relative above 1), or
    both undefined (ours null, the peer's NaN/inf where the chronic load is 0; for
    monotony the peer's inf is our cap and its NaN our null).
    """
    joined = ours.select("athlete", "day", "acwr", "monotony").join(peer, on=["athlete", "day"], how="inner")
    peer_acwr = pl.col("acwr_peer")
    peer_acwr = pl.when(peer_acwr.is_finite()).then(peer_acwr)
    peer_mono = pl.col("monotony_peer")
    peer_mono = pl.when(peer_mono.is_nan()).then(None).otherwise(peer_mono.clip(upper_bound=MONOTONY_CAP))

    def verdict(mine: pl.Expr, theirs: pl.Expr, name: str) -> list[pl.Expr]:
        both = mine.is_not_null() & theirs.is_not_null()
        diff = (mine - theirs).abs() / pl.max_horizontal(theirs.abs(), pl.lit(1.0))
        return [
            both.sum().alias(f"{name}_compared"),
            (mine.is_null() != theirs.is_null()).sum().alias(f"{name}_defined_differently"),
            diff.filter(both).max().alias(f"{name}_max_diff"),
            (diff.filter(both) > TOLERANCE).sum().alias(f"{name}_over_tolerance"),
        ]

    stats = joined.select(
        pl.len().alias("days_compared"),
        *verdict(pl.col("acwr"), peer_acwr, "acwr"),
        *verdict(pl.col("monotony"), peer_mono, "monotony"),
    ).row(0, named=True)
    stats["athletes"] = joined["athlete"].n_unique()
    stats["matches"] = bool(
        stats["days_compared"] > 0
        and all(
            stats[f"{n}_over_tolerance"] == 0 and stats[f"{n}_defined_differently"] == 0 for n in ("acwr", "monotony")
        )
    )
    return stats
