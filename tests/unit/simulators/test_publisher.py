from __future__ import annotations

import pytest

from simulators import parse_speed
from simulators.publisher import PublishReport


@pytest.mark.parametrize(
    ("speed", "factor"), [("max", None), ("realtime", 1.0), ("60", 60.0), ("60x", 60.0), (2.5, 2.5)]
)
def test_speed_is_max_realtime_or_a_factor(speed: str | float, factor: float | None) -> None:
    assert parse_speed(speed) == factor


@pytest.mark.parametrize("speed", ["fast", "0", "-3", float("inf")])
def test_other_speeds_are_refused(speed: str | float) -> None:
    with pytest.raises(ValueError, match="speed"):
        parse_speed(speed)


def test_report_rate() -> None:
    report = PublishReport(
        messages=100, steps=250, by_stream={"steps": 100}, faults={}, reconnects=0, duration_s=2.0,
        first_ts=0, last_ts=1,
    )  # fmt: skip
    assert report.rate == 50.0
