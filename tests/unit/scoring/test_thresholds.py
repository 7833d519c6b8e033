"""Team config overrides: known rules and fields only, checked types and orders."""

import pytest

from scoring.errors import ConfigError, ScoringError
from scoring.thresholds import DEFAULT_THRESHOLDS, RULE_IDS, thresholds_from_mapping


def test_rule_ids_match_the_contract() -> None:
    assert set(RULE_IDS) == {
        "longest_session", "session_spike", "acwr_spike", "weekly_ramp", "return_from_break", "no_rest", "monotony",
        "hard_surface", "descent_load", "no_warmup", "fatigue", "asymmetry", "shoe_wear",
        "pain_acute", "pain_persistent", "overtraining",
    }  # fmt: skip


def test_defaults_are_rules_md() -> None:
    t = DEFAULT_THRESHOLDS
    assert (t.session_spike.moderate, t.session_spike.high, t.session_spike.min_steps) == (1.5, 2.0, 300)
    # RULES.md, Evidence grading: longest_session replaces session_spike; the ratios are moderate at most.
    assert (t.longest_session.moderate, t.longest_session.high, t.longest_session.window_days) == (1.1, 2.0, 30)
    assert not t.session_spike.enabled
    assert (t.acwr_spike.moderate, t.acwr_spike.high, t.acwr_spike.min_week_load) == (1.3, None, 2000.0)
    assert (t.weekly_ramp.moderate, t.weekly_ramp.high) == (1.15, None)
    for rule in (t.acwr_spike, t.weekly_ramp):
        assert (rule.min_history_days, rule.min_days_per_week) == (28, 3.0)
    assert (t.shoe_wear.moderate_km, t.shoe_wear.high_km, t.shoe_wear.max_age_days) == (600.0, 800.0, 180)


def test_overrides_keep_the_other_defaults() -> None:
    t = thresholds_from_mapping({"session_spike": {"high": 2.5}, "hard_surface": {"hard_surfaces": ["asphalt"]}})
    assert (t.session_spike.moderate, t.session_spike.high) == (1.5, 2.5)
    assert t.hard_surface.hard_surfaces == ("asphalt",)
    assert t.acwr_spike == DEFAULT_THRESHOLDS.acwr_spike


@pytest.mark.parametrize(
    ("config", "rule", "field"),
    [
        ({"sesion_spike": {"high": 2.5}}, "sesion_spike", None),
        ({"session_spike": {"hihg": 2.5}}, "session_spike", "hihg"),
        ({"session_spike": {"high": "2.5"}}, "session_spike", "high"),
        ({"session_spike": {"min_steps": True}}, "session_spike", "min_steps"),
        ({"session_spike": {"min_steps": 300.5}}, "session_spike", "min_steps"),
        ({"session_spike": {"high": 1.2}}, "session_spike", None),  # below moderate
        ({"session_spike": {"clear_below": 1.6}}, "session_spike", "clear_below"),
        ({"descent_load": {"moderate": -0.1}}, "descent_load", "moderate"),
        ({"hard_surface": {"load_rules": ["overtraining"]}}, "hard_surface", None),  # evaluated after it
        ({"monotony": {"enabled": False}}, "overtraining", None),  # overtraining reads it
        ({"session_spike": {"enabled": "yes"}}, "session_spike", "enabled"),
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, dict[str, object]], rule: str, field: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        thresholds_from_mapping(config)
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert rule in str(caught.value)
    assert isinstance(caught.value, ScoringError)
