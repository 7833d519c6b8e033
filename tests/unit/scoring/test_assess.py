"""score_athlete / score_team: the contract's alert payload, one athlete or a whole team."""

import polars as pl

from scoring.assess import Assessment, History, score_athlete, score_team
from scoring.sessions import judge_sessions
from scoring.severity import Severity
from tests.unit.scoring.builders import day_ts, feature, features, pain, wellness

SEED = [400, 400, 700, 500, 1500]  # the seed's jump-rope sessions


def jump_rope(athlete: str = "a") -> list[dict[str, object]]:
    return [feature(2 * i, n, athlete=athlete, activity="jump_rope") for i, n in enumerate(SEED)]


def test_the_seed_jumper_after_the_1500_session() -> None:
    history = History(
        team="t", athlete="a", sessions=features(jump_rope()), wellness=wellness([pain(8, "achilles", 8, kind="sharp")])
    )
    assessment = score_athlete(history, at=day_ts(8, hour=22.0))
    assert assessment.level == Severity.CRITICAL
    rules = [r.rule for r in assessment.reasons]
    assert rules[0] == "pain_acute"
    assert "longest_session" in rules
    spike = next(r for r in assessment.reasons if r.rule == "longest_session")
    assert (spike.severity, spike.threshold) == (Severity.HIGH, 2.0)
    assert f"{1500 / 700:.1f}x" in spike.message
    assert [r.severity for r in assessment.reasons] == sorted((r.severity for r in assessment.reasons), reverse=True)


def test_alert_dict_has_the_contract_fields() -> None:
    assessment = score_athlete(History(team="t", athlete="a", sessions=features(jump_rope())), at=day_ts(8, hour=22.0))
    alert = assessment.to_alert_dict()
    assert list(alert) == ["team", "athlete", "ts", "level", "score", "reasons"]
    assert alert["level"] in ("low", "moderate", "high", "critical")
    assert 0 <= alert["score"] <= 100
    for reason in alert["reasons"]:
        assert list(reason) == ["rule", "severity", "value", "threshold", "message", "advice"]
        assert reason["message"] and reason["advice"]


def test_no_history_is_low() -> None:
    assessment = score_athlete(History(team="t", athlete="nobody"), at=day_ts(0))
    assert assessment == Assessment(team="t", athlete="nobody", ts=day_ts(0), level=Severity.LOW, score=0)


def test_a_team_in_one_pass_equals_each_athlete_alone() -> None:
    rows = jump_rope("a") + [feature(d, 1000, athlete="b") for d in range(4)] + [feature(0, 800, athlete="c")]
    pains = wellness([pain(3, "knee", 8, athlete="b")])
    at = day_ts(8, hour=22.0)
    team = score_team(features(rows), pains, at=at)
    assert team["athlete"].to_list() == ["a", "b", "c"]
    for row in team.iter_rows(named=True):
        alone = score_athlete(History(team="t", athlete=row["athlete"], sessions=features(rows), wellness=pains), at=at)
        assert Assessment.from_row(row) == alone


def test_judged_sessions_score_the_same_as_features() -> None:
    at = day_ts(8, hour=22.0)
    plain = score_team(features(jump_rope()), wellness(), at=at)
    judged = score_team(judge_sessions(features(jump_rope())), wellness(), at=at)
    assert plain.equals(judged)


def test_an_athlete_with_only_pain_reports() -> None:
    scored = score_team(features([]), wellness([pain(0, "calf", 9)]), at=day_ts(0, hour=22.0))
    assert scored.select("level", pl.col("reasons").list.len()).row(0) == ("critical", 1)
