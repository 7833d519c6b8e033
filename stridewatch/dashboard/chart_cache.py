"""Drawn charts kept by what they draw: a chart is redrawn only when its data changed.

matplotlib takes 50-150 ms a chart, so an athlete page of seven charts cannot be drawn on
every request. A chart is a pure function of its frames and thresholds, so its key is a
digest of exactly those (the frames' Arrow IPC bytes): the charts of closed days stay
cached, today's new session redraws only the charts it appears in, and a change of data
can never show a stale chart. The least recently used go first past ``max_bytes``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import polars as pl

T = TypeVar("T")
MAX_BYTES = 64 * 1024 * 1024


def digest(*parts: Any) -> str:
    """A key for ``parts``: frames by their content, anything else by its ``repr``."""
    h = hashlib.sha256()
    for part in parts:
        data = part.write_ipc(None).getvalue() if isinstance(part, pl.DataFrame) else repr(part).encode()
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class ChartCache:
    """What ``make`` drew, by digest of its arguments; ``size`` measures an entry in bytes."""

    def __init__(self, *, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, make: Callable[..., T], *args: Any, size: Callable[[T], int], **kwargs: Any) -> T:
        key = digest(make.__qualname__, *args, sorted(kwargs.items()))
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]  # type: ignore[no-any-return]
            self.misses += 1
        value = make(*args, **kwargs)  # outside the lock: two requests may draw it twice, never wait
        cost = size(value)
        with self._lock:
            if key not in self._entries and cost <= self.max_bytes:
                self._entries[key] = (value, cost)
                self._bytes += cost
                while self._bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._bytes -= dropped
        return value
