"""Level and score from the active reasons; alert states."""

import polars as pl
import pytest

from scoring.level import BAND_FLOOR, POINTS_PER_EXTRA_REASON, alert_state, escalated, level_expr, score_expr
from scoring.severity import Severity

M, H, C = int(Severity.MODERATE), int(Severity.HIGH), int(Severity.CRITICAL)


def level_and_score(*severities: int) -> tuple[int, int]:
    names = [f"rule{i}" for i in range(max(len(severities), 1))]
    frame = pl.DataFrame([[s] for s in severities or (0,)], schema=dict.fromkeys(names, pl.Int8), orient="col")
    level = level_expr(names)
    row = frame.select(level.alias("level"), score_expr(level, names).alias("score")).row(0)
    return row[0], row[1]


@pytest.mark.parametrize(
    ("severities", "level", "score"),
    [
        ((), Severity.LOW, 0),
        ((M,), Severity.MODERATE, BAND_FLOOR[Severity.MODERATE]),
        ((M, M), Severity.MODERATE, BAND_FLOOR[Severity.MODERATE] + POINTS_PER_EXTRA_REASON),
        ((M, M, M), Severity.HIGH, BAND_FLOOR[Severity.HIGH] + 2 * POINTS_PER_EXTRA_REASON),
        ((H,), Severity.HIGH, BAND_FLOOR[Severity.HIGH]),
        ((C, H, M), Severity.CRITICAL, BAND_FLOOR[Severity.CRITICAL] + 2 * POINTS_PER_EXTRA_REASON),
        ((C,) * 10, Severity.CRITICAL, 100),
        ((M,) * 15, Severity.HIGH, 89),
    ],
)
def test_level_and_score(severities: tuple[int, ...], level: Severity, score: int) -> None:
    assert level_and_score(*severities) == (level, score)


def test_alert_states() -> None:
    low = (Severity.LOW, frozenset[str]())
    high = (Severity.HIGH, frozenset({"acwr_spike"}))
    higher = (Severity.CRITICAL, frozenset({"acwr_spike", "pain_acute"}))
    assert alert_state(None, low) is None
    assert alert_state(low, high) == "raised"
    assert alert_state(high, high) is None
    assert alert_state(high, higher) == "updated"
    assert escalated(high, higher)
    assert not escalated(higher, high)
    assert alert_state(higher, low) == "cleared"
