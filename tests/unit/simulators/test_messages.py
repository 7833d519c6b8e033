"""Generated messages follow the contract: valid payloads, event-time order, seq, batching."""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from ingest.payloads import SessionEvent, Status, StepsBatch, Wellness
from ingest.topics import parse_device_topic
from simulators import generate, list_scenarios
from tests.unit.simulators.conftest import START, messages_of


@pytest.mark.parametrize("name", list_scenarios())
def test_every_payload_is_valid_and_on_its_contract_topic(name: str) -> None:
    expected = {"steps": StepsBatch, "session": SessionEvent, "wellness": Wellness, "status": Status}
    for m in messages_of(name):
        topic = parse_device_topic(m.topic)
        assert isinstance(m.parse(), expected[topic.stream])
        assert m.retain == (topic.stream == "status")
        assert m.fault is None and not m.duplicate


@pytest.mark.parametrize("name", list_scenarios())
def test_event_time_order_seq_and_step_order(name: str) -> None:
    messages = messages_of(name)
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(messages))
    seqs: dict[str, list[int]] = defaultdict(list)
    last_step: dict[str, int] = {}
    for m in messages:
        if m.stream != "steps":
            continue
        batch = json.loads(m.payload)
        seqs[m.topic].append(batch["seq"])
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", batch["session_id"])
        times = [s["ts"] for s in batch["steps"]]
        assert times == sorted(times) and times[0] >= last_step.get(m.topic, 0)
        assert m.ts == times[-1] and m.steps == len(times)  # sent when the batch is full
        last_step[m.topic] = times[-1]
    for seq in seqs.values():
        assert seq == list(range(len(seq)))  # per device, across sessions: unique and increasing


def test_a_session_opens_and_closes_around_its_steps_with_what_the_contract_asks() -> None:
    messages = [m for m in messages_of("restart_runner") if "pod-1" in m.topic]
    first_session = messages[: next(i for i, m in enumerate(messages) if m.stream == "status" and i > 0) + 1]
    kinds = [m.stream for m in first_session]
    assert kinds[:2] == ["status", "session"] and kinds[-2:] == ["session", "status"]
    assert set(kinds[2:-2]) == {"steps"}
    online, start, end, offline = (first_session[i].parse() for i in (0, 1, -2, -1))
    assert isinstance(start, SessionEvent) and isinstance(end, SessionEvent)
    assert (start.event, start.activity, start.surface, start.shoe_id, start.placement) == (
        "start", "run", "asphalt", "bazaar-athletic", "shin",
    )  # fmt: skip
    assert end.event == "end" and end.duration_s and end.distance_m and 6 * 60 < end.duration_s < 9 * 60
    assert isinstance(online, Status) and online.online and isinstance(offline, Status) and not offline.online


def test_default_batches_hold_about_a_second_of_steps() -> None:
    for m in messages_of("steady_runner"):
        if m.stream == "steps":
            times = [s["ts"] for s in json.loads(m.payload)["steps"]]
            assert times[-1] - times[0] < 1000 and len(times) <= 4


def test_fixed_size_batches_and_the_contract_maximum() -> None:
    fixed = [m.steps for m in generate("jump_rope_spike", start=START, batch_steps=50) if m.stream == "steps"]
    assert max(fixed) == 50 and fixed.count(50) >= len(fixed) - 8  # only each session's last batch is short
    huge = [m.steps for m in generate("steady_runner", start=START, batch_s=3600) if m.stream == "steps"]
    assert max(huge) == 2000  # never over the contract's 2000 steps a message


def test_same_seed_same_messages_other_seed_other_messages() -> None:
    again = tuple(generate("jump_rope_spike", start=START, seed=7))
    assert again == tuple(generate("jump_rope_spike", start=START, seed=7))
    replay = generate("jump_rope_spike", start=START, seed=7)
    assert tuple(replay) == tuple(replay)  # a Replay regenerates on every iteration
    other = tuple(generate("jump_rope_spike", start=START, seed=8))
    assert [m.payload for m in other if m.stream == "steps"] != [m.payload for m in again if m.stream == "steps"]


def test_scenarios_merge_and_end_on_the_given_day() -> None:
    end = date(2026, 6, 30)
    messages = list(generate("restart_runner", "jump_rope_spike", end=end, seed=1))
    athletes = {m.topic.split("/")[3] for m in messages}
    assert athletes == {"restart", "rope-jumper"}
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(messages))
    last = {m.topic.split("/")[3]: m.ts for m in messages}
    for ts in last.values():
        assert end - timedelta(days=1) <= datetime.fromtimestamp(ts / 1000, UTC).date() <= end


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"batch_steps": 0}, "batch_steps"), ({"batch_s": 0}, "batch_s"), ({"seed": -1}, "seed"),
     ({"start": START, "end": START}, "start or end")],
)  # fmt: skip
def test_bad_arguments_are_refused(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        generate("jump_rope_spike", **kwargs)  # type: ignore[arg-type]


def test_by_default_a_replay_ends_yesterday_so_nothing_lies_in_the_future() -> None:
    messages = list(generate("jump_rope_spike"))
    now_ms = datetime.now(UTC).timestamp() * 1000
    assert messages[-1].ts < now_ms and now_ms - messages[-1].ts < 3 * 86_400_000
