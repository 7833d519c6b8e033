"""The athlete charts, drawn server-side with matplotlib as inline SVG.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in
words, with the numbers, what the chart shows, so a screen reader (or a coach reading the
report as plain text) gets it too. The dashboard and the weekly report embed the same
markup; no JavaScript draws anything. Colours are the Okabe-Ito palette (safe for colour
blindness), and bands carry text labels, never colour alone.
"""

from __future__ import annotations

import html
import io
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import matplotlib
import polars as pl
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from ingest.payloads import HARD_SURFACES
from scoring import Thresholds
from stridewatch.dashboard.athlete_data import AthleteData
from stridewatch.dashboard.chart_cache import ChartCache

BLUE, ORANGE, VERMILLION, GREEN, SKY, PURPLE, GREY = (
    "#0072B2", "#E69F00", "#D55E00", "#009E73", "#56B4E9", "#CC79A7", "#6E6E6E",
)  # fmt: skip
SWEET_SPOT_LOW = 0.8  # Gabbett 2016; the top of the sweet spot is acwr_spike's moderate threshold
_STYLE = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, read by screen readers
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.fontsize": 8,
    "legend.frameon": False,
}
# matplotlib's global state (rcParams) is shared: one chart at a time.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A chart's id stem, title, text alternative and SVG (None when there is nothing to draw:
    then ``summary`` says why)."""

    key: str
    title: str
    summary: str
    svg: Markup | None = None


def athlete_charts(
    data: AthleteData, thresholds: Thresholds, *, prefix: str = "", cache: ChartCache | None = None
) -> list[Chart]:
    """The athlete page's charts, in page order; ``prefix`` keeps ids unique when a page holds
    several athletes (the team report). With a ``cache``, a chart whose data did not change
    is not drawn again."""
    cache = cache or ChartCache(max_bytes=0)

    def draw(make: Callable[..., Chart], *args: Any, key: str) -> Chart:
        return cache.get(make, *args, key=key, size=lambda chart: len(chart.svg or "") + len(chart.summary))

    return [
        draw(load_chart, data.daily, thresholds, key=f"{prefix}load"),
        draw(weekly_chart, data.weekly, thresholds, key=f"{prefix}weekly"),
        draw(cadence_chart, data.sessions, key=f"{prefix}cadence"),
        draw(symmetry_chart, data.sessions, thresholds, key=f"{prefix}symmetry"),
        draw(surface_chart, data.surfaces, data.sessions, thresholds, key=f"{prefix}surfaces"),
        draw(shoe_chart, data.shoes, thresholds, key=f"{prefix}shoes"),
        draw(pain_chart, data.pain, key=f"{prefix}pain"),
    ]


def load_chart(daily: pl.DataFrame, thresholds: Thresholds, *, key: str = "load") -> Chart:
    """Daily load with the acute and chronic lines, and their ratio against its bands."""
    title = "Daily load, acute and chronic load, and their ratio"
    if not daily["load"].sum():
        return Chart(key, title, "No training sessions in these weeks.")
    rule = thresholds.rule("acwr_spike")
    high, top = rule.high, rule.moderate  # type: ignore[attr-defined]  # high: None when moderate at most
    last = daily.row(-1, named=True)
    ratios = daily.drop_nulls("acwr")
    summary = (
        f"Daily training load (impact-weighted steps) from {daily['day'][0]} to {last['day']}. "
        f"On {last['day']} the acute (7-day) load is {_n(last['acute'])} and the chronic (28-day) load "
        f"{_n(last['chronic'])}"
    )
    if last["acwr"] is not None:
        summary += f": ratio {last['acwr']:.2f}, {_band(last['acwr'], top, high)}."
    else:
        summary += "."
    if ratios.height:
        peak = ratios.row(int(ratios["acwr"].arg_max() or 0), named=True)
        summary += f" Highest ratio {peak['acwr']:.2f} on {peak['day']}."
    summary += f" Sweet spot {SWEET_SPOT_LOW}-{top}; " + (
        f"danger above {high}."
        if high is not None
        else f"above {top} a moderate warning: the ratio predicts injury weakly."
    )

    def draw(fig: Figure) -> None:
        top_ax, ratio_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
        days = daily["day"].to_list()
        top_ax.bar(days, daily["load"].fill_null(0).to_list(), color=SKY, label="daily load", width=0.8)
        top_ax.plot(days, daily["acute"].to_list(), color=ORANGE, linewidth=2, label="acute (7-day)")
        top_ax.plot(days, daily["chronic"].to_list(), color=BLUE, linewidth=2, label="chronic (28-day)")
        top_ax.set_ylabel("load")
        top_ax.legend(loc="upper left", ncols=3)
        ceiling = max(2.0, (ratios["acwr"].max() or 0.0) * 1.1)  # type: ignore[operator]
        ratio_ax.axhspan(SWEET_SPOT_LOW, top, color=GREEN, alpha=0.18, linewidth=0)
        ratio_ax.text(0.005, (SWEET_SPOT_LOW + top) / 2, "sweet spot", transform=ratio_ax.get_yaxis_transform(),
                      va="center", fontsize=8, color="#1d5e47")  # fmt: skip
        flag, colour, label = (top, ORANGE, "watch") if high is None else (high, VERMILLION, "danger")
        ratio_ax.axhspan(flag, ceiling, color=colour, alpha=0.15, linewidth=0)
        ratio_ax.text(0.005, flag + 0.05, f"{label} > {flag:g}", transform=ratio_ax.get_yaxis_transform(),
                      va="bottom", fontsize=8, color="#8a3300")  # fmt: skip
        ratio_ax.plot(days, daily["acwr"].to_list(), color="black", linewidth=1.5)
        ratio_ax.set_ylim(0, ceiling)
        ratio_ax.set_ylabel("acute / chronic")
        _dates(ratio_ax)

    return _render(key, title, summary, draw, height=3.6)


def weekly_chart(weekly: pl.DataFrame, thresholds: Thresholds, *, key: str = "weekly") -> Chart:
    """Load per calendar week, each bar labelled with its change on the week before."""
    title = "Weekly load and week-to-week change"
    if not weekly["load"].sum():
        return Chart(key, title, "No training sessions in these weeks.")
    rule = thresholds.rule("weekly_ramp")
    moderate, high = rule.moderate, rule.high  # type: ignore[attr-defined]  # high: None when moderate at most
    steepest = moderate if high is None else high
    full = weekly.filter(pl.col("complete"))
    parts = []
    if full.height:
        last = full.row(-1, named=True)
        parts.append(f"Week of {last['week']}: load {_n(last['load'])}{_change(last['change'])}.")
    steep = full.filter(pl.col("change") > steepest)
    if steep.height:
        weeks = ", ".join(f"{w} ({_change(c, bare=True)})" for w, c in steep.select("week", "change").iter_rows())
        parts.append(f"Weeks up more than {_pct(steepest - 1)}: {weeks}.")
    else:
        parts.append(f"No week rose more than {_pct(steepest - 1)} on the week before.")
    summary = " ".join(parts)

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        weeks = [w.isoformat() for w in weekly["week"]]
        colours = [
            VERMILLION if high is not None and (c or 0) > high else ORANGE if (c or 0) > moderate else BLUE
            for c in weekly["change"]
        ]
        bars = ax.bar(weeks, weekly["load"].to_list(), color=colours)
        for bar, complete in zip(bars, weekly["complete"], strict=True):
            if not complete:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
        labels = [
            ("" if not load else _change(change, bare=True)) + ("" if done else " so far")
            for load, change, done in weekly.select("load", "change", "complete").iter_rows()
        ]
        ax.bar_label(bars, labels=labels, fontsize=8, padding=2)
        ax.set_ylabel("load per week")
        red = "" if high is None else f", red: up > {_pct(high - 1)}"
        ax.set_xlabel(f"week starting (orange: up > {_pct(moderate - 1)}{red})")
        ax.tick_params(axis="x", labelrotation=30)

    return _render(key, title, summary, draw, height=2.8)


def cadence_chart(sessions: pl.DataFrame, *, key: str = "cadence") -> Chart:
    """Each session's median cadence and median impact."""
    title = "Session cadence and impact"
    if not sessions.height:
        return Chart(key, title, "No sessions in these weeks.")
    cadence = sessions.drop_nulls("cadence")
    impact = sessions.drop_nulls("impact")
    summary = (
        f"{sessions.height} sessions. Median cadence per session {_range(cadence['cadence'], '{:.0f}')} steps a minute"
    )
    summary += (
        f"; median impact {_range(impact['impact'], '{:.1f}')} g."
        if impact.height
        else "; no impact data (a cadence-only device)."
    )

    def draw(fig: Figure) -> None:
        cadence_ax, impact_ax = fig.subplots(2, 1, sharex=True)
        starts = _datetimes(sessions["start"])
        cadence_ax.plot(starts, sessions["cadence"].to_list(), marker="o", color=BLUE, linewidth=1)
        cadence_ax.set_ylabel("cadence\n(steps/min)")
        _least_span(cadence_ax, cadence["cadence"], 20.0)
        if impact.height:
            impact_ax.plot(starts, sessions["impact"].to_list(), marker="s", color=VERMILLION, linewidth=1)
            _least_span(impact_ax, impact["impact"], 2.0)
        else:
            impact_ax.text(0.5, 0.5, "no impact data: cadence-only device", ha="center", transform=impact_ax.transAxes)
        impact_ax.set_ylabel("impact (g)")
        _dates(impact_ax)

    return _render(key, title, summary, draw, height=3.2)


def symmetry_chart(sessions: pl.DataFrame, thresholds: Thresholds, *, key: str = "symmetry") -> Chart:
    """Each session's left/right impact difference against the asymmetry rule's thresholds."""
    title = "Left/right symmetry"
    measured = sessions.drop_nulls("symmetry")
    if not measured.height:
        return Chart(key, title, "No left/right impact data in these weeks (the device measures no impact).")
    rule = thresholds.rule("asymmetry")
    moderate, high = rule.moderate, rule.high  # type: ignore[attr-defined]
    last = measured.row(-1, named=True)
    peak = measured.row(int(measured["symmetry"].arg_max() or 0), named=True)
    summary = (
        f"Left and right impacts differed by {last['symmetry']:.0f}% in the latest session ({last['day']}), "
        f"{peak['symmetry']:.0f}% at most ({peak['day']}). The asymmetry rule flags over {moderate:g}% "
        f"(high over {high:g}%) when it is also beyond the athlete's usual."
    )

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        values = measured["symmetry"].to_list()
        colours = [VERMILLION if v > high else ORANGE if v > moderate else GREEN for v in values]
        ax.bar(_datetimes(measured["start"]), values, color=colours, width=0.6)
        for level, label in ((moderate, "moderate"), (high, "high")):
            ax.axhline(level, color=GREY, linestyle="--", linewidth=1)
            ax.text(1.0, level, f" {label} {level:g}%", transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        ax.set_ylabel("L/R difference (%)")
        ax.set_ylim(0, max(high * 1.3, max(values) * 1.1))
        _dates(ax)

    return _render(key, title, summary, draw, height=2.6)


def surface_chart(
    surfaces: pl.DataFrame, sessions: pl.DataFrame, thresholds: Thresholds, *, key: str = "surfaces"
) -> Chart:
    """The load's share per surface, and each session's share of steps on a descent."""
    title = "Surfaces and descents"
    if not surfaces.height:
        return Chart(key, title, "No training sessions in these weeks.")
    rule = thresholds.rule("descent_load")
    moderate, high = rule.moderate, rule.high  # type: ignore[attr-defined]
    hard = float(surfaces.filter(pl.col("surface").is_in(list(HARD_SURFACES)))["share"].sum())
    shares = ", ".join(f"{s} {_pct(v)}" for s, v in surfaces.select("surface", "share").iter_rows())
    descents = sessions.drop_nulls("descent_share")
    summary = f"Hard ground (asphalt, concrete, tiles) carried {_pct(hard)} of the load ({shares})."
    if descents.height:
        peak = descents.row(int(descents["descent_share"].arg_max() or 0), named=True)
        summary += (
            f" Downhill steps: {_pct(descents['descent_share'][-1])} of the latest session, "
            f"{_pct(peak['descent_share'])} at most ({peak['day']}); flagged over {_pct(moderate)}."
        )

    def draw(fig: Figure) -> None:
        surface_ax, descent_ax = fig.subplots(1, 2, width_ratios=[1, 2])
        names = surfaces["surface"].to_list()[::-1]
        colours = [VERMILLION if n in HARD_SURFACES else BLUE for n in names]
        shares = [100 * v for v in surfaces["share"].to_list()[::-1]]
        bars = surface_ax.barh(names, shares, color=colours, height=0.6)
        surface_ax.bar_label(bars, fmt="%.0f%%", fontsize=8, padding=2)
        surface_ax.set_xlabel("share of load (%); red: hard ground")
        surface_ax.set_xlim(0, 115)
        if descents.height:
            descent_ax.plot(_datetimes(descents["start"]), [100 * v for v in descents["descent_share"]],
                            marker="o", color=PURPLE, linewidth=1)  # fmt: skip
            for level, label in ((moderate, "moderate"), (high, "high")):
                descent_ax.axhline(100 * level, color=GREY, linestyle="--", linewidth=1)
                descent_ax.text(1.0, 100 * level, f" {label}", transform=descent_ax.get_yaxis_transform(),
                                va="center", fontsize=8)  # fmt: skip
            descent_ax.set_ylim(0, max(100 * high * 1.3, 100 * (descents["descent_share"].max() or 0.0) * 1.1))  # type: ignore[operator]
        descent_ax.set_ylabel("steps downhill (%)")
        _dates(descent_ax)

    return _render(key, title, summary, draw, height=2.6)


def shoe_chart(shoes: pl.DataFrame, thresholds: Thresholds, *, key: str = "shoes") -> Chart:
    """Distance on each shoe against the shoe_wear rule's limits."""
    title = "Shoe distance"
    if not shoes.height:
        return Chart(key, title, "No shoe recorded in the sessions.")
    rule = thresholds.rule("shoe_wear")
    moderate, high, max_age = rule.moderate_km, rule.high_km, rule.max_age_days  # type: ignore[attr-defined]
    summary = " ".join(
        f"{shoe}: {km:.0f} km in {age} days ({_wear(km, age, moderate, high, max_age)})."
        for shoe, km, age in shoes.select("shoe_id", "km", "age_days").iter_rows()
    )

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        names, km = shoes["shoe_id"].to_list(), shoes["km"].to_list()
        colours = [VERMILLION if k > high else ORANGE if k > moderate else GREEN for k in km]
        bars = ax.barh(names, km, color=colours, height=0.6)
        ax.bar_label(bars, fmt="%.0f km", fontsize=8, padding=2)
        for level, label in ((moderate, "worn"), (high, "replace")):
            ax.axvline(level, color=GREY, linestyle="--", linewidth=1)
            ax.text(level, 1.0, f"{label} {level:g} km", transform=ax.get_xaxis_transform(), ha="center",
                    va="bottom", fontsize=8)  # fmt: skip
        ax.set_xlim(0, max(high * 1.15, max(km) * 1.15))
        ax.set_xlabel("km")

    return _render(key, title, summary, draw, height=0.9 + 0.35 * shoes.height)


def pain_chart(pain: pl.DataFrame, *, key: str = "pain") -> Chart:
    """Pain reports over time, by site."""
    title = "Pain reports"
    if not pain.height:
        return Chart(key, title, "No pain reported in these weeks.")
    worst = pain.row(int(pain["score"].arg_max() or 0), named=True)
    sites = ", ".join(sorted(set(pain["site"])))
    summary = (
        f"{pain.height} pain reports ({sites}); the worst {worst['score']}/10 {worst['kind']} "
        f"({worst['site']}, {worst['side']}) on {worst['day']}. 7/10 or sharp pain: stop and see a doctor."
    )

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        palette = [VERMILLION, BLUE, ORANGE, GREEN, PURPLE, SKY, GREY]
        markers = ["o", "s", "^", "D", "v", "P", "X"]
        for i, (site, rows) in enumerate(pain.group_by("site", maintain_order=True)):
            ax.plot(_datetimes(rows["ts"]), rows["score"].to_list(), marker=markers[i % 7],
                    color=palette[i % 7], linestyle="-", linewidth=1, label=str(site[0]))  # fmt: skip
        ax.axhline(7, color=GREY, linestyle="--", linewidth=1)
        ax.text(1.0, 7, " see a doctor", transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        ax.set_ylim(0, 10.5)
        ax.set_ylabel("pain (0-10)")
        ax.legend(loc="upper left", ncols=4)
        _dates(ax)

    return _render(key, title, summary, draw, height=2.4)


# -- drawing ---------------------------------------------------------------------------
def _render(key: str, title: str, summary: str, draw: Callable[[Figure], None], *, height: float) -> Chart:
    with _LOCK, matplotlib.rc_context(cast(Any, _STYLE | {"svg.hashsalt": key})), warnings.catch_warnings():
        # Some spans of days (a few months) have no tick interval in matplotlib's table: it
        # says so and takes the nearest one, which reads fine. Not a fault of the page.
        warnings.filterwarnings("ignore", "AutoDateLocator was unable to pick", UserWarning)
        fig = Figure(figsize=(8, height), layout="constrained")
        draw(fig)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return Chart(key, title, summary, Markup(_accessible_svg(buffer.getvalue(), key, title, summary)))


def _accessible_svg(svg: str, key: str, title: str, summary: str) -> str:
    """matplotlib's SVG as an inline ``<svg role="img">`` with its title and text alternative,
    and its ids prefixed with ``key`` so that several charts can share a page."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # matplotlib's global '*' rule would apply to the whole HTML page
    svg = re.sub(r"<style[^>]*>.*?</style>\s*", "", svg, flags=re.S)
    svg = re.sub(r' id="([^"]+)"', lambda m: f' id="{key}-{m[1]}"', svg)
    svg = re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m[1]}{key}-{m[2]}", svg)
    label = (
        f'<svg role="img" class="chart" aria-labelledby="{key}-title {key}-desc" preserveAspectRatio="xMinYMin meet"'
    )
    head = f'<title id="{key}-title">{html.escape(title)}</title><desc id="{key}-desc">{html.escape(summary)}</desc>'
    opening_end = svg.index(">") + 1
    return label + svg[len("<svg") : opening_end] + head + svg[opening_end:]


def _dates(ax: Axes) -> None:
    locator = AutoDateLocator(maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _least_span(ax: Axes, values: pl.Series, span: float) -> None:
    """Show at least ``span`` around the values, so that noise does not look like a trend."""
    if values.len():
        middle = (float(values.min()) + float(values.max())) / 2  # type: ignore[arg-type]
        half = max(span, float(values.max()) - float(values.min())) / 2 * 1.1  # type: ignore[arg-type]
        ax.set_ylim(middle - half, middle + half)


def _datetimes(ms: pl.Series) -> list[Any]:
    return pl.from_epoch(ms, time_unit="ms").to_list()


# -- words -----------------------------------------------------------------------------
def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def _change(ratio: float | None, *, bare: bool = False) -> str:
    if ratio is None:
        return "" if not bare else "new"
    text = f"{100 * (ratio - 1):+.0f}%"
    return text if bare else f", {text} on the week before"


def _range(values: pl.Series, fmt: str) -> str:
    if not values.len():
        return "-"
    low, high, last = values.min(), values.max(), values[-1]
    if fmt.format(low) == fmt.format(high):
        return fmt.format(low)
    return f"{fmt.format(low)}-{fmt.format(high)} (latest {fmt.format(last)})"


def _band(ratio: float, top: float, high: float | None) -> str:
    ratio = round(ratio, 2)  # as the coach reads it
    if high is not None and ratio > high:
        return f"above {high:g}: danger, the load jumped too fast"
    if ratio > top:
        return f"above {top:g}: watch it" if high is None else f"between {top:g} and {high:g}: watch it"
    if ratio >= SWEET_SPOT_LOW:
        return f"in the sweet spot {SWEET_SPOT_LOW:g}-{top:g}"
    return f"below {SWEET_SPOT_LOW:g}: less than usual"


def _wear(km: float, age: int, moderate: float, high: float, max_age: int) -> str:
    if km > high:
        return f"over {high:g} km: replace them"
    if km > moderate:
        return f"over {moderate:g} km: worn"
    if age > max_age:
        return f"over {max_age} days old: time to change them"
    return "fine"
