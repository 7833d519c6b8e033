"""The simulators' exceptions, one base for the package::

SimulatorError
├── ScenarioError   a scenario or route file breaks its schema (says which file and field)
└── PublishError    the broker refused a message, or stopped acknowledging
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error the simulators raise."""


class ScenarioError(SimulatorError, ValueError):
    """A scenario (or route) is invalid; the message names the file and the field."""


class PublishError(SimulatorError):
    """Publishing failed; ``reason`` is the broker's reason (or what we waited for)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
