"""Faults behave as described and are marked, so a test knows what must be dead-lettered."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from ingest.payloads import PayloadError
from ingest.topics import TopicError
from simulators import CORRUPTIONS, FaultPlan, Message, generate

REPLAY = generate("jump_rope_spike", start=date(2026, 3, 2), seed=3)
ORIGINAL = tuple(REPLAY)


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_each_corruption_makes_a_dead_letter_and_is_marked(kind: str) -> None:
    broken = list(FaultPlan(corrupt=1.0, kinds=(kind,)).apply(REPLAY))
    assert len(broken) == len(ORIGINAL)
    for original, m in zip(ORIGINAL, broken, strict=True):
        assert m.fault == kind and m.dead_letter and m.ts == original.ts
        with pytest.raises((PayloadError, TopicError)):
            m.parse()


def test_a_share_is_corrupted_with_kinds_drawn_at_random() -> None:
    faulty = list(FaultPlan(corrupt=0.1).apply(REPLAY, seed=1))
    kinds = Counter(m.fault for m in faulty if m.fault)
    assert 0.07 < sum(kinds.values()) / len(faulty) < 0.13 and set(kinds) == set(CORRUPTIONS)
    for m in faulty:
        if not m.dead_letter:
            m.parse()  # the rest stay valid


def test_duplicates_repeat_a_message_byte_for_byte_and_are_marked() -> None:
    faulty = list(FaultPlan(duplicate=0.2).apply(REPLAY, seed=1))
    copies = [m for m in faulty if m.duplicate]
    assert 0.15 < len(copies) / len(ORIGINAL) < 0.25
    assert [m for m in faulty if not m.duplicate] == list(ORIGINAL)
    for i, m in enumerate(faulty):
        if m.duplicate:
            assert faulty[i - 1] == m._replace(duplicate=False)


def test_reorder_shuffles_within_windows_only() -> None:
    shuffled = list(FaultPlan(reorder=8).apply(REPLAY, seed=1))
    assert Counter(shuffled) == Counter(ORIGINAL) and shuffled != list(ORIGINAL)
    position = {m: i for i, m in enumerate(ORIGINAL)}
    assert all(i // 8 == position[m] // 8 for i, m in enumerate(shuffled))


def test_faults_are_deterministic_per_seed() -> None:
    plan = FaultPlan(duplicate=0.05, reorder=5, corrupt=0.05)
    assert list(plan.apply(REPLAY, seed=2)) == list(plan.apply(REPLAY, seed=2))
    assert list(plan.apply(REPLAY, seed=2)) != list(plan.apply(REPLAY, seed=3))


@pytest.mark.parametrize(
    "kwargs",
    [{"duplicate": 1.5}, {"corrupt": -0.1}, {"reorder": -1}, {"kinds": ("flipped_bits",)}, {"kinds": ()}],
)
def test_impossible_plans_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**kwargs)  # type: ignore[arg-type]


def test_messages_are_hashable_values() -> None:
    m = ORIGINAL[0]
    assert isinstance(m, Message) and m == Message(*m) and hash(m) == hash(Message(*m))
