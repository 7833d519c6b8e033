"""The charts: accessible inline SVG with a text alternative that carries the numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import polars as pl

from scoring import DEFAULT_THRESHOLDS, session_loads, thresholds_from_mapping
from stridewatch.dashboard.athlete_data import PAIN_SCHEMA, SHOE_SCHEMA, daily_frame, weekly_frame
from stridewatch.dashboard.charts import load_chart, pain_chart, shoe_chart, weekly_chart
from tests.unit.scoring.builders import day_ts, feature, features

SVG = "{http://www.w3.org/2000/svg}"


def daily() -> pl.DataFrame:
    loads = [400.0, 0, 500, 0, 450, 0, 0] * 4 + [900.0, 0, 1200, 0, 1500, 0, 0]
    return daily_frame(
        session_loads(features([feature(d, x) for d, x in enumerate(loads) if x])), at=day_ts(34, 23), tz="UTC"
    )


def test_load_chart_is_an_accessible_svg_whose_ids_are_its_own() -> None:
    chart = load_chart(daily(), DEFAULT_THRESHOLDS, key="a1-load")
    assert chart.svg is not None
    root = ET.fromstring(str(chart.svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "a1-load-title a1-load-desc"
    assert root.find(f"{SVG}title").text == chart.title  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == chart.summary  # type: ignore[union-attr]
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    assert all(i.startswith("a1-load-") for i in ids)  # type: ignore[union-attr]
    referenced = set(re.findall(r'(?:url\(#|href="#)([^")]+)', str(chart.svg)))
    assert referenced and referenced <= ids
    assert len(list(root.iter(f"{SVG}path"))) > 10


def test_load_chart_says_the_latest_ratio_and_its_band() -> None:
    frame = daily()
    last = frame.row(-1, named=True)
    chart = load_chart(frame, DEFAULT_THRESHOLDS)
    assert f"ratio {last['acwr']:.2f}" in chart.summary
    assert f"acute (7-day) load is {last['acute']:,.0f}" in chart.summary
    assert "Sweet spot 0.8-1.3; above 1.3 a moderate warning" in chart.summary  # acwr_spike is moderate at most
    old_grading = thresholds_from_mapping({"acwr_spike": {"high": 1.5}})
    assert "Sweet spot 0.8-1.3; danger above 1.5" in load_chart(frame, old_grading).summary


def test_weekly_chart_names_the_weeks_that_rose_too_fast() -> None:
    weekly = weekly_frame(daily())
    steep = weekly.filter(pl.col("complete") & (pl.col("change") > DEFAULT_THRESHOLDS.weekly_ramp.moderate))
    chart = weekly_chart(weekly, DEFAULT_THRESHOLDS)
    assert steep.height
    for week, change in steep.select("week", "change").iter_rows():
        assert f"{week} (+{100 * (change - 1):.0f}%)" in chart.summary


def test_charts_without_data_say_so_instead_of_drawing() -> None:
    assert pain_chart(pl.DataFrame(schema=PAIN_SCHEMA)).svg is None
    empty_shoes = shoe_chart(pl.DataFrame(schema=SHOE_SCHEMA), DEFAULT_THRESHOLDS)
    assert empty_shoes.svg is None and empty_shoes.summary == "No shoe recorded in the sessions."


def test_shoe_chart_says_when_to_replace() -> None:
    shoes = pl.DataFrame(
        {"shoe_id": ["old", "new"], "km": [812.4, 120.0], "first_day": None, "last_day": None, "age_days": [150, 20]},
        schema=SHOE_SCHEMA,
    )
    chart = shoe_chart(shoes, DEFAULT_THRESHOLDS)
    assert "old: 812 km in 150 days (over 800 km: replace them)." in chart.summary
    assert "new: 120 km in 20 days (fine)." in chart.summary
