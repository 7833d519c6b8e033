"""Short garbage-collector pauses for the long-running services, so that alerts are not late.

CPython's full collections walk every live object: in `stridewatch run` with 1,000 athletes
streaming (their live sessions, states and alert book) they came every ten seconds or so
and paused the service for up to 134 ms, most of the 1,000-athlete alert latency's p99.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def fewer_pauses() -> None:
    """Take what exists once the service is made (modules, configuration, the states it read) out of
    the collector's walks for good, and collect less often: the services' garbage is freed by
    reference counting, and the rare cycles wait a little longer."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)
