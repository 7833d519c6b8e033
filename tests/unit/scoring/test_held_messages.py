"""A reason held by hysteresis under its threshold says so, with the level that clears it."""

from __future__ import annotations

import pytest

from scoring.rules import AcuteLoadRule, AcwrSpike, LongestSession, SessionSpike, WeeklyRamp
from scoring.severity import Severity

# With the old grading's high bands, so that a reason can be held between moderate and high.
HELD = [WeeklyRamp(high=1.30), AcwrSpike(high=1.5), SessionSpike(), LongestSession()]


def test_over_its_threshold_a_reason_reads_as_before() -> None:
    rule = WeeklyRamp()
    assert rule.message(1.35, rule.moderate, Severity.MODERATE) == rule.message_template.format(
        value=1.35, threshold=rule.moderate, rule=rule
    )


@pytest.mark.parametrize("rule", HELD, ids=lambda r: r.rule_id)
def test_under_its_threshold_a_held_reason_says_why_it_stays(rule: AcuteLoadRule) -> None:
    high = float(rule.bands().levels[-1][1])  # type: ignore[arg-type]
    held = (rule.clear_at() + high) / 2
    text = rule.message(held, high, Severity.HIGH)
    assert f"over {rule.value_format.format(high)} in this stretch" in text
    assert f"until it is back under {rule.value_format.format(rule.clear_at())}" in text
    assert rule.held_template.format(value=held, rule=rule) in text


def test_the_weekly_ramp_example_in_words() -> None:
    rule = WeeklyRamp(high=1.30)
    assert rule.message(1.28, 1.30, Severity.HIGH) == (
        "This week's load is 128% of last week's: it went over 130% in this stretch, "
        "and the warning stays until it is back under 115%"
    )
