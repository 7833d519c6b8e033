"""Fault injection for tests: what real devices and networks do to a stream.

A `FaultPlan` corrupts a share of messages (each marked with its kind in ``Message.fault``:
the platform must dead-letter exactly those), sends a share twice (``Message.duplicate``:
stored once), and shuffles messages within windows. Dropped connections are the
publisher's: ``publish(..., drop_every=N)`` (QoS 1 must lose nothing valid).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.message import Message
from simulators.messages import CORRUPTIONS, Replay

# Per stream: a required int to turn into a string, a required field to drop, the path of
# a number field, and a value out of its range.
_TARGETS: dict[str, tuple[str, str, tuple[str | int, ...], float]] = {
    "steps": ("seq", "session_id", ("steps", 0, "cadence_spm"), 400.0),
    "session": ("ts", "event", ("duration_s",), -5.0),
    "wellness": ("ts", "ts", ("ts",), -1),
    "status": ("ts", "online", ("battery_pct",), 140.0),
    "imu": ("seq", "session_id", ("rate_hz",), 5000.0),
}


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    duplicate: float = 0.0  # share of messages sent twice
    reorder: int = 0  # shuffle within consecutive windows of this many messages (0 or 1: keep order)
    corrupt: float = 0.0  # share of messages replaced by a corrupted copy
    kinds: tuple[str, ...] = CORRUPTIONS  # the corruptions to draw from

    def __post_init__(self) -> None:
        for name in ("duplicate", "corrupt"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a share of messages: 0 to 1")
        if self.reorder < 0:
            raise ValueError("reorder is a window of messages: >= 0")
        if not self.kinds or not set(self.kinds) <= set(CORRUPTIONS):
            raise ValueError(f"kinds must be some of {', '.join(CORRUPTIONS)}; got {self.kinds!r}")

    def apply(self, messages: Replay, *, seed: int = 0) -> Replay:
        """``messages`` with this plan's corruption, duplicates and reordering (deterministic)."""
        return Replay(messages.first_ts, messages.last_ts, lambda: self._faulty(messages, seed))

    def _faulty(self, messages: Iterable[Message], seed: int) -> Iterator[Message]:
        rng = np.random.default_rng([seed, 0xFA17])
        stream = iter(messages)  # each fault is a stage, skipped when off: a clean replay pays nothing
        if self.corrupt:
            kinds = self.kinds
            stream = (
                _corrupt(m, kinds[rng.integers(len(kinds))]) if rng.random() < self.corrupt else m for m in stream
            )
        if self.duplicate:
            stream = itertools.chain.from_iterable(
                (m, m._replace(duplicate=True)) if rng.random() < self.duplicate else (m,) for m in stream
            )
        if self.reorder <= 1:
            yield from stream
            return
        while window := list(itertools.islice(stream, self.reorder)):
            yield from (window[i] for i in rng.permutation(len(window)))


def _corrupt(message: Message, kind: str) -> Message:
    """A copy of ``message`` broken in the way ``kind`` names, marked as such."""
    topic, payload = message.topic, message.payload
    if kind == "malformed_json":
        payload = payload[: len(payload) // 2]
    elif kind == "bad_topic":
        topic = topic.rsplit("/", 1)[0] + "/telemetry"
    else:
        obj: dict[str, Any] = json.loads(payload)
        as_string, required, number_path, out_of_range = _TARGETS[message.stream]
        if kind == "wrong_type":
            obj[as_string] = str(obj[as_string])
        elif kind == "missing_field":
            del obj[required]
        elif kind == "topic_mismatch":
            athlete = topic.split("/")[3]
            obj["athlete"] = "someone-else" if athlete != "someone-else" else "someone-other"
        else:
            *path, last = number_path
            target: Any = obj
            for part in path:
                target = target[part]
            target[last] = float("nan") if kind == "nan" else out_of_range
        payload = json.dumps(obj).encode()  # json writes NaN as the bare token, as buggy firmware does
    return message._replace(topic=topic, payload=payload, fault=kind)
