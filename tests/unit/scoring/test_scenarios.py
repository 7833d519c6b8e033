"""RULES.md scenarios, built as stored sessions: what a coach should see."""

import numpy as np
import polars as pl

from scoring.assess import History, score_athlete
from scoring.severity import Severity
from scoring.timeline import timeline
from tests.unit.scoring.builders import day_ts, end_of, feature, features, pain, wellness


def reasons_at(rows: list[dict[str, object]], pains: list[dict[str, object]], at: int) -> tuple[Severity, set[str]]:
    assessment = score_athlete(History(team="t", athlete="a", sessions=features(rows), wellness=wellness(pains)), at=at)
    return assessment.level, {r.rule for r in assessment.reasons}


def test_restart_runner() -> None:
    # Years off; ~1 km every morning on asphalt, no warm-up, a long descent; calf and knee pain from day 4.
    runs = [
        feature(d, 1100, surface="asphalt", warmup_ratio=0.97, descent_steps=300, duration_s=420.0) for d in range(11)
    ]
    pains = [pain(d, "calf", 5) for d in range(3, 11)]
    level, rules = reasons_at(runs[:3], [], day_ts(3, hour=6.0))  # the morning of day 4
    assert level >= Severity.HIGH
    assert {"no_rest", "hard_surface", "descent_load", "no_warmup"} <= rules
    assert "pain_persistent" not in reasons_at(runs[:8], pains[:5], end_of(7))[1]
    assert "pain_persistent" in reasons_at(runs, pains, end_of(10))[1]


def daily_levels(rows: list[dict[str, object]], until: int) -> pl.DataFrame:
    return timeline(features(rows), wellness(), at=end_of(until)).select("day", "level", "no_rest__severity")


def test_daily_rope_500_is_at_most_moderate_once_it_is_a_habit() -> None:
    rng = np.random.default_rng(500)
    jumps = [
        feature(d, float(n), activity="jump_rope", surface="tiles") for d, n in enumerate(rng.integers(480, 521, 180))
    ]
    levels = daily_levels(jumps, 179)["level"].to_list()
    # Its first weeks are a new athlete training daily: no_rest rightly fires then (RULES.md).
    assert max(levels[42:]) <= Severity.MODERATE


def test_steady_runner_stays_low() -> None:
    rng = np.random.default_rng(6)
    surfaces = ["asphalt", "grass", "track"]
    days = [d for d in range(182) if d % 7 in (0, 2, 4)]
    runs = [
        feature(
            d,
            float(rng.integers(4400, 4600)),
            surface=surfaces[i % 3],
            warmup_ratio=0.8,
            shoe_id=f"shoe-{d // 120}",
            distance_m=4500.0,
            impact_mean_L=5.0,
            impact_mean_R=5.1,
            duration_s=1700.0,
        )
        for i, d in enumerate(days)
    ]
    assert set(daily_levels(runs, 181)["level"].to_list()) == {int(Severity.LOW)}


def test_jump_rope_spike() -> None:
    seed = [400, 400, 700, 500, 1500]
    sessions = [
        feature(2 * i, n, activity="jump_rope", impact_mean_L=5.0, impact_mean_R=5.1) for i, n in enumerate(seed)
    ]
    after = [feature(12, 400, activity="jump_rope", impact_mean_L=6.5, impact_mean_R=5.0)]  # favouring the hurt leg
    pains = [pain(8, "achilles", 8, kind="sharp"), pain(8, "knee", 6)]
    level, rules = reasons_at(sessions, pains, day_ts(8, hour=21.0))
    assert level == Severity.CRITICAL
    assert {"longest_session", "pain_acute"} <= rules
    assert "asymmetry" in reasons_at(sessions + after, [], end_of(12))[1]
