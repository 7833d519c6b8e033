"""Coach-facing text for a notification: short lines that read well on a phone.

The alert payload is the contract's (``team``, ``athlete``, ``level``, ``score``, ``reasons``);
the reasons' ``message`` already carries the measured number, so it is quoted as is.

Examples
--------
>>> alert = {"team": "harriers", "athlete": "a-017", "level": "high", "score": 78, "reasons": [
...     {"rule": "acwr_spike", "severity": "high", "value": 1.92, "threshold": 1.5,
...      "message": "7-day load is 1.9x the 28-day load: the load jumped too fast",
...      "advice": "Cut the next sessions back to the usual volume and build up gradually."}]}
>>> title, body = format_notification(alert, "raised", team_name="Harriers")
>>> print(title)
HIGH risk: a-017 (Harriers)
>>> print(body)
Risk score 78/100. Why:
- 7-day load is 1.9x the 28-day load: the load jumped too fast
What to do: Cut the next sessions back to the usual volume and build up gradually.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

Kind = Literal["raised", "escalated", "cleared"]
KINDS: tuple[Kind, ...] = ("raised", "escalated", "cleared")
MAX_REASONS = 3
_SEVERITY_RANK = {"low": 1, "moderate": 2, "high": 3, "critical": 4}

__all__ = ["KINDS", "MAX_REASONS", "Kind", "format_digest", "format_notification"]


def format_notification(alert: Mapping[str, Any], kind: Kind, *, team_name: str | None = None) -> tuple[str, str]:
    """``(title, body)`` for one alert event; ``team_name`` defaults to the team id."""
    athlete = alert["athlete"]
    team = team_name or alert["team"]
    level = str(alert["level"]).upper()
    if kind == "cleared":
        return f"Back to low risk: {athlete} ({team})", f"{athlete} is back to low risk: no warning signs remain."
    title = f"Risk up to {level}: {athlete} ({team})" if kind == "escalated" else f"{level} risk: {athlete} ({team})"
    # Worst first; sorted() is stable, so the scorer's order decides among equals.
    reasons = sorted(alert.get("reasons", ()), key=lambda r: -_SEVERITY_RANK.get(r.get("severity", ""), 0))
    lines = [f"Risk score {alert['score']}/100. Why:"]
    lines += [f"- {_reason_text(r)}" for r in reasons[:MAX_REASONS]]
    if len(reasons) > MAX_REASONS:
        more = len(reasons) - MAX_REASONS
        lines.append(f"(+{more} more reason{'s' if more > 1 else ''})")
    if reasons and reasons[0].get("advice"):
        lines.append(f"What to do: {reasons[0]['advice']}")
    return title, "\n".join(lines)


def _reason_text(reason: Mapping[str, Any]) -> str:
    if reason.get("message"):
        return str(reason["message"])
    return f"{reason['rule']}: {reason['value']:g} (threshold {reason['threshold']:g})"


def format_digest(items: Sequence[tuple[str, str, int]], *, team_name: str, timezone: ZoneInfo) -> tuple[str, str]:
    """One message for notifications held together: ``items`` are ``(title, body, created_ms)``.

    Each item keeps its own title, prefixed with its local time, so the coach reads the night
    in order.
    """
    title = f"{len(items)} risk notifications ({team_name})"
    parts = []
    for item_title, item_body, created_ms in items:
        at = datetime.fromtimestamp(created_ms / 1000, timezone).strftime("%H:%M")
        parts.append(f"{at} {item_title}\n{item_body}")
    return title, "\n\n".join(parts)
