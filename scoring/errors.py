"""Exceptions raised by the scoring core.

The tree::

    ScoringError            base of everything this package raises
     ├── ConfigError        a team config names an unknown rule or field, or gives a bad value
     └── TooLate            an event older than an athlete's state keeps the past for (scoring.state)
"""

from __future__ import annotations


class ScoringError(Exception):
    """Base class of the scoring package's exceptions."""


class ConfigError(ScoringError, ValueError):
    """A threshold config is wrong; ``rule`` and ``field`` say where."""

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field
