"""Judged sessions: each stored session with its load and everything the rules read from
the athlete's earlier sessions, computed once and valid for every later scoring time.

A session's baseline, its reference for session_spike, the athlete's usual symmetry and
duration before it, its shoe's distance, and the session rules' verdicts depend only on
that session and the ones before it. So ``judge_sessions`` is the persistable
intermediate: the store can keep its output beside the session features (recomputing it
when a team's thresholds or time zone change), and daily scoring then never redoes the
per-session history work.
"""

from __future__ import annotations

import polars as pl

from scoring.keys import athlete_keys
from scoring.load import session_loads
from scoring.rules import SessionRule
from scoring.rules._rule import ATHLETE
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds

JUDGED_MARKER = "load"  # a column that session features lack and judged sessions have


def judge_sessions(
    features: pl.DataFrame, *, thresholds: Thresholds = DEFAULT_THRESHOLDS, tz: str = "UTC"
) -> pl.DataFrame:
    """Session features plus load columns (``load.session_loads``) and the rules' per-session columns.

    One row per session, sorted by team, athlete and start. Added columns: ``start``,
    ``end``, ``day`` (local, ``tz``), ``duration``, ``training``, ``baseline_g``, ``load``,
    and ``{rule}__*`` columns (e.g. ``session_spike__reference``, ``asymmetry__usual``,
    ``shoe_wear__km``, and each session rule's ``__s_sev``, ``__s_value``, ``__s_threshold``).
    """
    rules = thresholds.rules()
    _keys, (athlete_key,) = athlete_keys(features)
    keyed = features.with_columns(athlete_key)
    if athlete_key.null_count():  # a null team or athlete: no athlete to score
        keyed = keyed.drop_nulls(ATHLETE)
    loads = session_loads(keyed, settings=thresholds.load, tz=tz, by=[ATHLETE])
    loads = loads.with_columns(e for rule in rules for e in rule.session_inputs())
    verdicts = [e for rule in rules if isinstance(rule, SessionRule) for e in rule.session_verdict()]
    return loads.with_columns(verdicts).drop(ATHLETE)


def is_judged(sessions: pl.DataFrame) -> bool:
    """Whether ``sessions`` is ``judge_sessions`` output rather than plain features."""
    return JUDGED_MARKER in sessions.columns
