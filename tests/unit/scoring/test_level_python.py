"""`level_and_score` (Python) agrees with `level_expr`/`score_expr` (polars) on every combination."""

from __future__ import annotations

import itertools

import polars as pl

from scoring.level import level_and_score, level_expr, score_expr
from scoring.severity import Severity


def test_python_and_polars_levels_agree() -> None:
    columns = ["a", "b", "c", "d"]
    combos = list(itertools.product([int(s) for s in Severity] + [0], repeat=len(columns)))
    frame = pl.DataFrame(combos, schema=dict.fromkeys(columns, pl.Int8), orient="row")
    frame = frame.with_columns(level=level_expr(columns)).with_columns(score=score_expr(pl.col("level"), columns))
    for row in frame.iter_rows(named=True):
        severities = [Severity(row[c]) for c in columns if row[c] > 0]
        level, score = level_and_score(severities)
        assert (int(level), score) == (row["level"], row["score"]), row
