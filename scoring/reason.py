"""Why an athlete is at risk: one triggered rule, in the contract's alert shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scoring.severity import Severity


@dataclass(frozen=True, kw_only=True)
class Reason:
    """One active rule: what was measured, against which threshold, in plain words."""

    rule: str
    severity: Severity
    value: float
    threshold: float
    message: str
    advice: str

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``reasons[]`` item."""
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "value": round(self.value, 3),
            "threshold": round(self.threshold, 3),
            "message": self.message,
            "advice": self.advice,
        }
