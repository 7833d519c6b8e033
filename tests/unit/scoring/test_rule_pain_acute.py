"""pain_acute: sharp pain or a score of 7+ is critical, until a later report says otherwise."""

import pytest

from scoring.rules import PainAcute
from tests.unit.scoring.builders import days_of, feature, features, pain, severity, verdict, wellness

RULE = PainAcute()
RUNS = features([feature(0, 1000)])


def on(
    day: int, reports: list[dict[str, object]], until: int | None = None
) -> tuple[str | None, float | None, float | None]:
    return verdict(days_of(RUNS, wellness(reports), until=until or day)[day], RULE.rule_id)


@pytest.mark.parametrize(
    ("score", "kind", "expected"),
    [
        (RULE.min_score - 1, "ache", None),
        (RULE.min_score, "ache", "critical"),
        (2, "sharp", "critical"),
        (9, "soreness", "critical"),
    ],
)
def test_sharp_or_severe(score: int, kind: str, expected: str | None) -> None:
    label, value, threshold = on(1, [pain(1, "achilles", score, kind=kind)])
    assert label == expected
    if expected:
        assert (value, threshold) == (score, RULE.min_score)


def test_holds_for_a_week() -> None:
    timeline = days_of(RUNS, wellness([pain(1, "knee", 8)]), until=10)
    held = [severity(timeline[d], RULE.rule_id) for d in range(1, 10)]
    assert held == ["critical"] * RULE.hold_days + [None] * (9 - RULE.hold_days)


def test_a_later_milder_report_at_the_site_clears_it() -> None:
    reports = [pain(1, "knee", 8), pain(3, "knee", 2)]
    assert on(2, reports, until=5)[0] == "critical"
    assert on(3, reports, until=5)[0] is None
    other_site = [pain(1, "knee", 8), pain(3, "calf", 2)]
    assert on(3, other_site, until=5)[0] == "critical"


def test_reports_after_at_are_not_seen() -> None:
    timeline = days_of(RUNS, wellness([pain(3, "knee", 9)]), until=2)
    assert all(severity(row, RULE.rule_id) is None for row in timeline.values())
