"""The public surface of the scoring package is small and deliberate."""

import scoring
import scoring.rules


def test_public_members() -> None:
    assert sorted(scoring.__all__) == sorted(
        [
            "DEFAULT_THRESHOLDS", "RULE_IDS", "SESSIONS_SCHEMA", "SESSION_FEATURES_SCHEMA", "STEPS_SCHEMA",
            "WELLNESS_SCHEMA", "Assessment", "AthleteState", "ConfigError", "History", "LiveSession", "LoadSettings", "Reason",
            "ScoringError", "Severity", "Thresholds", "TooLate", "acute_load", "acwr", "alert_state", "chronic_load",
            "daily_loads", "judge_sessions", "local_day", "monotony", "rolling_ratio", "score_athlete",
            "score_team", "session_features", "session_loads", "strain", "thresholds_from_mapping", "timeline",
        ]
    )  # fmt: skip
    assert all(hasattr(scoring, name) for name in scoring.__all__)


def test_one_rule_class_per_rule_id() -> None:
    ids = {
        getattr(scoring.rules, name).rule_id
        for name in scoring.rules.__all__
        if hasattr(getattr(scoring.rules, name), "rule_id")
    }
    assert ids == set(scoring.RULE_IDS)
