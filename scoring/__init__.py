"""stridewatch scoring core: pure functions from polars frames to risk reasons and levels.

No IO, clock or environment: every result is a function of the frames and the event time
``at`` passed in, so replaying history gives what living it gave.

Pipeline: ``session_features`` (steps -> one row per session, persisted at session end)
-> ``judge_sessions`` (loads and per-session history, persistable) -> ``timeline`` (every
athlete and day, every rule) -> ``score_team`` / ``score_athlete`` (the alert payload):
the batch path, for a team at once. ``AthleteState`` is the same for one athlete, updated
event by event instead of recomputed (the service's path; a property test holds the two
equal), and ``LiveSession`` judges a session in progress against it.
"""

from scoring.assess import Assessment, History, score_athlete, score_team
from scoring.errors import ConfigError, ScoringError
from scoring.ewma import acute_load, acwr, chronic_load, monotony, rolling_ratio, strain
from scoring.features import session_features
from scoring.level import alert_state
from scoring.live import LiveSession
from scoring.load import LoadSettings, daily_loads, local_day, session_loads
from scoring.reason import Reason
from scoring.schemas import SESSION_FEATURES_SCHEMA, SESSIONS_SCHEMA, STEPS_SCHEMA, WELLNESS_SCHEMA
from scoring.sessions import judge_sessions
from scoring.severity import Severity
from scoring.state import AthleteState, TooLate
from scoring.thresholds import DEFAULT_THRESHOLDS, RULE_IDS, Thresholds, thresholds_from_mapping
from scoring.timeline import timeline

__all__ = [
    "DEFAULT_THRESHOLDS",
    "RULE_IDS",
    "SESSIONS_SCHEMA",
    "SESSION_FEATURES_SCHEMA",
    "STEPS_SCHEMA",
    "WELLNESS_SCHEMA",
    "Assessment",
    "AthleteState",
    "ConfigError",
    "History",
    "LiveSession",
    "LoadSettings",
    "Reason",
    "ScoringError",
    "Severity",
    "Thresholds",
    "TooLate",
    "acute_load",
    "acwr",
    "alert_state",
    "chronic_load",
    "daily_loads",
    "judge_sessions",
    "local_day",
    "monotony",
    "rolling_ratio",
    "score_athlete",
    "score_team",
    "session_features",
    "session_loads",
    "strain",
    "thresholds_from_mapping",
    "timeline",
]
