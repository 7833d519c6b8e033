"""overtraining: acwr_spike or monotony flagged on the same weekday three weeks running."""

from scoring.rules import Overtraining
from tests.unit.scoring.builders import daily, days_of, severity

RULE = Overtraining()
BASE = [1000.0, 0.0] * 35  # ten weeks of every other day


def test_three_weeks_of_overload_are_high() -> None:
    loads = BASE + [2000.0] * 21
    timeline = days_of(daily(loads), until=len(loads))
    last = len(loads) - 1
    flagged = [
        severity(timeline[last - 7 * k], "monotony") or severity(timeline[last - 7 * k], "acwr_spike") for k in range(3)
    ]
    assert all(flagged)
    assert severity(timeline[last], RULE.rule_id) == "high"


def test_one_hard_week_is_not_enough() -> None:
    loads = BASE + [2000.0] * 8 + [1000.0, 0.0] * 8  # flagged in two weekly checks at most
    timeline = days_of(daily(loads), until=len(loads))
    assert all(severity(row, RULE.rule_id) is None for row in timeline.values())


def test_a_steady_base_never_is() -> None:
    timeline = days_of(daily(BASE * 2), until=2 * len(BASE))
    assert all(severity(row, RULE.rule_id) is None for row in timeline.values())
