"""Coach-facing text: a title that says who and how bad, at most three reasons with their numbers."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from stridewatch.notify.texts import format_digest, format_notification

ACWR = {
    "rule": "acwr_spike", "severity": "high", "value": 1.92, "threshold": 1.5,
    "message": "7-day load is 1.9x the 28-day load: the load jumped too fast",
    "advice": "Cut the next sessions back to the usual volume and build up gradually.",
}  # fmt: skip
PAIN = {
    "rule": "pain_acute", "severity": "critical", "value": 8, "threshold": 7,
    "message": "calf pain 8/10 reported (sharp)",
    "advice": "Stop all training on the sore leg and see a doctor before training again.",
}  # fmt: skip
NO_REST = {
    "rule": "no_rest", "severity": "moderate", "value": 12, "threshold": 10,
    "message": "12 training days in a row without a rest day", "advice": "Take a rest day.",
}  # fmt: skip
MONOTONY = {
    "rule": "monotony", "severity": "moderate", "value": 2.3, "threshold": 2.0,
    "message": "training monotony 2.3: the same load day after day", "advice": "Vary the sessions.",
}  # fmt: skip
SHOES = {
    "rule": "shoe_wear", "severity": "low", "value": 640, "threshold": 600,
    "message": "shoe asics-01 has run 640 km", "advice": "Plan new shoes.",
}  # fmt: skip


def alert(level: str, score: int, *reasons: dict[str, Any]) -> dict[str, Any]:
    return {"team": "harriers", "athlete": "a-017", "ts": 1764230000000, "level": level, "score": score,
            "state": "raised", "alert_id": "01JD", "reasons": list(reasons)}  # fmt: skip


def test_raised_names_level_athlete_team_reason_and_advice() -> None:
    title, body = format_notification(alert("high", 78, ACWR), "raised", team_name="Harriers")
    assert title == "HIGH risk: a-017 (Harriers)"
    assert body.splitlines() == [
        "Risk score 78/100. Why:",
        "- 7-day load is 1.9x the 28-day load: the load jumped too fast",
        "What to do: Cut the next sessions back to the usual volume and build up gradually.",
    ]


def test_escalated_says_the_level_went_up() -> None:
    title, body = format_notification(alert("critical", 95, ACWR, PAIN), "escalated", team_name="Harriers")
    assert title == "Risk up to CRITICAL: a-017 (Harriers)"
    assert "95/100" in body


def test_at_most_three_reasons_worst_first_with_their_numbers() -> None:
    title, body = format_notification(alert("critical", 100, SHOES, NO_REST, ACWR, MONOTONY, PAIN), "raised")
    lines = body.splitlines()
    reasons = [line for line in lines if line.startswith("- ")]
    assert reasons == ["- calf pain 8/10 reported (sharp)", "- 7-day load is 1.9x the 28-day load: the load jumped too fast",
                       "- 12 training days in a row without a rest day"]  # fmt: skip
    assert "(+2 more reasons)" in lines
    assert lines[-1] == f"What to do: {PAIN['advice']}"  # the advice of the worst reason
    assert title == "CRITICAL risk: a-017 (harriers)"  # without a display name, the team id


def test_reason_without_message_shows_value_and_threshold() -> None:
    bare = {"rule": "weekly_ramp", "severity": "high", "value": 1.42, "threshold": 1.3, "message": "", "advice": ""}
    _, body = format_notification(alert("high", 60, bare), "raised")
    assert "- weekly_ramp: 1.42 (threshold 1.3)" in body
    assert "What to do" not in body


def test_cleared_says_back_to_low_risk() -> None:
    title, body = format_notification(alert("low", 0) | {"state": "cleared"}, "cleared", team_name="Harriers")
    assert title == "Back to low risk: a-017 (Harriers)"
    assert body == "a-017 is back to low risk: no warning signs remain."


def test_plain_short_lines_for_a_phone() -> None:
    _, body = format_notification(alert("high", 80, ACWR, NO_REST, MONOTONY), "raised")
    assert "|" not in body and "**" not in body  # no markdown tables or emphasis
    assert all(len(line) <= 100 for line in body.splitlines())


def test_digest_lists_each_notification_with_its_local_time() -> None:
    london = ZoneInfo("Europe/London")
    items = [("HIGH risk: a-001 (Harriers)", "Risk score 60/100.", 1768519800000),  # 2026-01-15 23:30 UTC
             ("Back to low risk: a-001 (Harriers)", "a-001 is back.", 1768534200000)]  # 03:30  # fmt: skip
    title, body = format_digest(items, team_name="Harriers", timezone=london)
    assert title == "2 risk notifications (Harriers)"
    assert (
        body
        == "23:30 HIGH risk: a-001 (Harriers)\nRisk score 60/100.\n\n03:30 Back to low risk: a-001 (Harriers)\na-001 is back."
    )


def test_docstring_example_runs() -> None:
    import doctest

    import stridewatch.notify.texts

    assert doctest.testmod(stridewatch.notify.texts).failed == 0
