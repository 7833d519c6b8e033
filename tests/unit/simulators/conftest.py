from __future__ import annotations

from datetime import date
from functools import cache

from simulators import Message, generate
from tests.unit.simulators.measures import Session, sessions

START = date(2026, 3, 2)
SEED = 7
# The long scenarios are generated with fixed-size batches (also covering that option);
# the others as pods send them, about a second of steps a message.
BATCH_STEPS = {"worn_shoes": 500, "overtrained": 200}


@cache
def messages_of(name: str) -> tuple[Message, ...]:
    """A shipped scenario's messages, generated once per test run."""
    return tuple(generate(name, start=START, seed=SEED, batch_steps=BATCH_STEPS.get(name)))


@cache
def sessions_of(name: str) -> list[Session]:
    """The scenario's sessions with their steps, parsed once per test run (do not modify)."""
    return sessions(messages_of(name))
