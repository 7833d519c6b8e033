"""return_from_break: >= 14 quiet days, then a hard day or 3 days running within a week."""

from collections.abc import Sequence

import pytest

from scoring.rules import ReturnFromBreak
from tests.unit.scoring.builders import days_of, feature, features, pain, severity, verdict, wellness

RULE = ReturnFromBreak()
BEFORE = [feature(d, 3000) for d in range(0, 27, 2)]  # typical session 3000, last on day 26
BACK = 26 + RULE.break_days + 1  # day 41: days 27..40 had no session


def on(
    day: int, rows: list[dict[str, object]], pains: Sequence[dict[str, object]] = (), until: int | None = None
) -> tuple[str | None, float | None, float | None]:
    timeline = days_of(features(BEFORE + rows), wellness(list(pains)), until=until or day)
    return verdict(timeline[day], RULE.rule_id)


@pytest.mark.parametrize(("load", "expected"), [(1500.0, None), (1501.0, "moderate")])
def test_a_hard_first_day_back(load: float, expected: str | None) -> None:
    label, value, _ = on(BACK, [feature(BACK, load)])
    assert label == expected
    if expected:
        assert value == pytest.approx(load / 3000.0)


def test_thirteen_quiet_days_are_not_a_break() -> None:
    assert on(BACK - 1, [feature(BACK - 1, 3000)])[0] is None


def test_three_days_running() -> None:
    rows = [feature(BACK + i, 500) for i in range(RULE.days_running)]
    assert on(BACK + 1, rows)[0] is None
    assert on(BACK + 2, rows) == ("moderate", RULE.days_running, RULE.days_running)


def test_pain_makes_it_high() -> None:
    rows = [feature(BACK, 2000)]
    assert on(BACK + 1, rows, [pain(BACK + 1, "calf", RULE.pain_score)])[0] == "high"
    assert on(BACK + 1, rows, [pain(BACK + 1, "calf", RULE.pain_score - 1)])[0] == "moderate"


def test_it_lasts_the_first_week_back_only() -> None:
    rows = [feature(BACK, 2000)]
    timeline = days_of(features(BEFORE + rows), until=BACK + 10)
    assert [severity(timeline[BACK + i], RULE.rule_id) for i in (0, 3, 6, 7)] == ["moderate"] * 3 + [None]
    late = days_of(features([*BEFORE, feature(BACK, 100), feature(BACK + RULE.window_days, 3000)]), until=BACK + 7)
    assert severity(late[BACK + RULE.window_days], RULE.rule_id) is None


def test_a_new_athlete_is_not_returning() -> None:
    timeline = days_of(features([feature(0, 3000)]), until=0)
    assert severity(timeline[0], RULE.rule_id) is None
