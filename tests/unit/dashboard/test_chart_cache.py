"""Charts kept by what they draw: the same data is never drawn twice, changed data always is."""

from __future__ import annotations

import polars as pl

from stridewatch.dashboard.chart_cache import ChartCache, digest


def test_a_chart_is_drawn_again_only_when_its_data_changed() -> None:
    drawn: list[str] = []

    def chart(frame: pl.DataFrame, *, key: str) -> str:
        drawn.append(key)
        return f"<svg>{key}:{frame['x'].sum()}</svg>"

    cache = ChartCache()
    closed_days = pl.DataFrame({"x": [1, 2, 3]})
    first = cache.get(chart, closed_days, key="load", size=len)
    assert cache.get(chart, pl.DataFrame({"x": [1, 2, 3]}), key="load", size=len) is first  # equal data: kept
    assert cache.get(chart, closed_days.with_columns(pl.col("x") * 2), key="load", size=len) == "<svg>load:12</svg>"
    assert cache.get(chart, closed_days, key="weekly", size=len) == "<svg>weekly:6</svg>"  # another chart
    assert drawn == ["load", "load", "weekly"] and (cache.hits, cache.misses) == (1, 3)


def test_the_least_recently_used_go_past_the_byte_budget() -> None:
    cache = ChartCache(max_bytes=25)

    def draw(n: int) -> str:
        return "x" * 10 + str(n)

    for n in range(3):
        cache.get(draw, n, size=len)  # 11 bytes each: the third pushes the first out
    cache.get(draw, 1, size=len)
    cache.get(draw, 0, size=len)
    assert (cache.hits, cache.misses) == (1, 4)


def test_digests_tell_frames_apart_by_content_dtype_and_order() -> None:
    a = pl.DataFrame({"x": [1, 2]})
    assert digest(a) == digest(pl.DataFrame({"x": [1, 2]}))
    assert len({digest(a), digest(a.reverse()), digest(a.cast(pl.Float64)), digest(a.rename({"x": "y"}))}) == 4
    assert digest("ab", "c") != digest("a", "bc")
