"""Dense integer athlete keys: one per (team, athlete), numbered in sorted order.

Windows and group-bys over one integer are much cheaper than over two strings, and so is
mapping the names to the integer when a frame is already sorted by athlete (the store's
and ``judge_sessions``' order): the names are then compared with their neighbours to find
each athlete's run of rows, and only one row per run is looked up, instead of hashing the
two strings of every row.
"""

from __future__ import annotations

import polars as pl

from scoring.rules._rule import ATHLETE
from scoring.schemas import ATHLETE_KEYS


def _runs(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series | None]:
    """The frame's (team, athlete) runs and each row's run number; all rows when unsorted."""
    names = frame.select(ATHLETE_KEYS)
    if names.height < 2:
        return names, None
    team, athlete = pl.col(ATHLETE_KEYS[0]), pl.col(ATHLETE_KEYS[1])
    before_team, before_athlete = team.shift(1), athlete.shift(1)
    same = (team == before_team) & (athlete == before_athlete)
    ordered = (team > before_team) | ((team == before_team) & (athlete >= before_athlete))
    checks = names.select(ordered=ordered.fill_null(True).all(), nulls=pl.any_horizontal(pl.all().is_null()).any()).row(
        0
    )
    if not checks[0] or checks[1]:  # unsorted, or nulls (which compare as neither): hash them
        return names, None
    starts = names.select(~same.fill_null(False)).to_series()
    return names.filter(starts), (starts.cast(pl.UInt32).cum_sum() - 1)


def athlete_keys(*frames: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.Series]]:
    """The key table (``athlete_key`` UInt32, team, athlete; sorted, row ``i`` = key ``i``) of
    all ``frames``' athletes, and each frame's ``athlete_key`` column in its row order."""
    runs = [_runs(frame) for frame in frames]
    keys = pl.concat([names for names, _ in runs]).unique().sort(ATHLETE_KEYS).with_row_index(ATHLETE)
    columns = []
    for names, run in runs:
        looked_up = names.join(keys, on=ATHLETE_KEYS, how="left", maintain_order="left").get_column(ATHLETE)
        columns.append(looked_up if run is None else looked_up.gather(run))
    return keys.select(ATHLETE, *ATHLETE_KEYS), columns
