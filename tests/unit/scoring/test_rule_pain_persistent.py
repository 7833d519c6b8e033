"""pain_persistent: pain (3+) at one site on reports spanning more than 5 days; DOMS is not."""

import pytest

from scoring.rules import PainPersistent
from tests.unit.scoring.builders import days_of, feature, features, pain, severity, verdict, wellness

RULE = PainPersistent()
RUNS = features([feature(0, 1000)])


def last(
    report_days: list[int], *, score: int = 5, site: str = "calf"
) -> tuple[str | None, float | None, float | None]:
    day = report_days[-1]
    reports = wellness([pain(d, site, score) for d in report_days])
    return verdict(days_of(RUNS, reports, until=day + 1)[day], RULE.rule_id)


@pytest.mark.parametrize(
    ("days", "expected"), [([1, 2, 3, 4, 5, 6], None), ([1, 2, 3, 4, 5, 6, 7], "high"), ([1, 4, 7], "high")]
)
def test_more_than_five_days(days: list[int], expected: str | None) -> None:
    label, value, threshold = last(days)
    assert label == expected
    if expected:
        assert (value, threshold) == (days[-1] - days[0], RULE.days)


def test_a_gap_longer_than_allowed_starts_over() -> None:
    assert last([1, 2, 3 + RULE.max_gap_days + 1, 9])[0] is None


def test_low_scores_are_not_pain() -> None:
    assert last(list(range(1, 9)), score=RULE.min_score - 1)[0] is None


def test_doms_fades_and_raises_nothing() -> None:
    reports = wellness([pain(2, "calf", 6), pain(3, "calf", 5), pain(4, "calf", 2), pain(9, "calf", 4)])
    timeline = days_of(features([feature(1, 3000)]), reports, until=12)
    assert all(severity(row, RULE.rule_id) is None for row in timeline.values())


def test_it_holds_until_the_pain_stops() -> None:
    reports = wellness([pain(d, "knee", 5) for d in range(1, 8)] + [pain(9, "knee", 1)])
    timeline = days_of(RUNS, reports, until=12)
    assert [severity(timeline[d], RULE.rule_id) for d in (6, 7, 8, 9)] == [None, "high", "high", None]
