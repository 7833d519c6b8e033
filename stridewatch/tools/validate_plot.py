"""``stridewatch validate --plot``: the table as a picture a coach reads at a glance (PNG, matplotlib).

Per team, one row per rule and severity that raised, best first (how much more often the
outcome followed it than followed random days): on the left, the share of its raises followed
by the outcome, with its 95% interval, over the band that random days reach; in the middle,
its relative risk against the days it did not warn, with its interval, on a log scale around
1; on the right, the share of outcome episodes it warned of. Rules that read the pain reports
themselves are left out: they follow pain, they cannot predict it. A team with no outcome gets
a line saying so. Each row is labelled with the table's own cells
(``stridewatch.validate.cells``), so the picture and the text never disagree.

Any numbers the statistics can give are drawn as they are: an interval is a line between its
ends whatever side of the estimate they fall (no error bars: matplotlib refuses one whose end
lies on the wrong side of its estimate, "'xerr' must not contain negative values"), a missing
value (null or NaN) is simply not drawn, and a relative risk past the log axis (0, an
unbounded end) is drawn at its edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import NullLocator

from stridewatch.tools.validate import TeamValidation, cells, finite

BEATS, NOT, CHANCE, MARK = "#2e7d32", "#9e9e9e", "#ffcc80", "#e65100"
RR_AXIS = (1 / 8, 8.0)  # the relative risks drawn; past them, at the edge
RR_TICKS = (1 / 8, 1 / 4, 1 / 2, 1.0, 2.0, 4.0, 8.0)


def write_plot(results: Sequence[TeamValidation], path: Path) -> None:
    """One PNG with a pair of panels per team."""
    figure(results).savefig(path, dpi=110)


def figure(results: Sequence[TeamValidation]) -> Figure:
    rows = [plotted(r.table) for r in results]
    height = sum(max(2.0, 0.45 * len(t) + 1.6) for t in rows)
    drawn = Figure(figsize=(16, max(3.0, height)), layout="constrained")
    panels = drawn.subplots(len(results), 3, squeeze=False, width_ratios=[3, 2, 2])
    for (left, middle, right), result, table in zip(panels, results, rows, strict=True):
        _precision(left, result, table)
        _relative_risk(middle, table)
        _recall(right, result, table)
        middle.set_ylim(left.get_ylim())
    drawn.legend(
        handles=[
            Patch(color=BEATS, label="beats chance (p < 0.05)"),
            Patch(color=NOT, label="not better than chance"),
            Patch(color=CHANCE, label="random days, 95% of draws"),
            Patch(color=MARK, label="random days' mean; relative risk 1"),
        ],
        loc="outside lower center",
        ncols=4,
        fontsize=8,
    )
    return drawn


def plotted(table: pl.DataFrame) -> pl.DataFrame:
    """The rows drawn: rules that raised and do not read the pain reports, of a team with outcomes,
    best lift last (drawn on top)."""
    return (
        table.filter(pl.col("independent") & (pl.col("raises") > 0) & (pl.col("episodes") > 0))
        .with_columns(lift=(pl.col("precision") - pl.col("chance_precision")).fill_nan(None))
        .sort("lift", descending=False, nulls_last=False)  # matplotlib draws the first row at the bottom
    )


def label(row: dict[str, object]) -> tuple[str, str, str]:
    """The texts beside a row on the left, middle and right panels, made of the table's cells."""
    cell = cells(row)
    left = f"{cell['followed']} vs {cell['random days']} random, p {cell['p']}, {cell['raises']} raises"
    middle = f"{cell['relative risk']}, {cell['without warning']} without"
    right = cell["caught"] + ("" if cell["lead days"] == "-" else f", {cell['lead days']} d ahead")
    return left, middle, right


def _segment(axes: Axes, y: float, low: object, high: object, **style: object) -> None:
    """A horizontal interval from ``low`` to ``high`` (either order), when both have values."""
    ends = [v for v in (finite(low), finite(high)) if v is not None]
    if len(ends) == 2:
        axes.plot([min(ends), max(ends)], [y, y], **style)  # type: ignore[arg-type]


def _precision(axes: Axes, result: TeamValidation, rows: pl.DataFrame) -> None:
    if not rows.height:
        empty = "no rule raised" if result.episodes else f"{result.team}: {result.unjudged()}"
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes, wrap=True)
    reach = [0.3]
    for i, r in enumerate(rows.iter_rows(named=True)):
        colour = BEATS if r["beats_chance"] else NOT
        low, high = finite(r["chance_low"]), finite(r["chance_high"])
        if low is not None and high is not None:
            axes.barh(i, abs(high - low), left=min(low, high), height=0.6, color=CHANCE, zorder=1)
        if (chance := finite(r["chance_precision"])) is not None:
            axes.plot([chance] * 2, [i - 0.3, i + 0.3], color=MARK, lw=1, zorder=2)
        _segment(axes, i, r["precision_low"], r["precision_high"], color=colour, lw=1.5, marker="|", ms=8, zorder=3)
        if (precision := finite(r["precision"])) is not None:
            axes.plot([precision], [i], "o", color=colour, zorder=4)
        reach += [v for v in (finite(r[k]) for k in ("precision", "precision_high", "chance_high")) if v is not None]
        axes.annotate(label(r)[0], (1.0, i), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                      textcoords="offset points", ha="right", va="center", fontsize=8)  # fmt: skip
    names = [f"{r['rule'].replace('_', ' ')} ({r['severity']})" for r in rows.iter_rows(named=True)]
    axes.set_yticks(range(rows.height), names)
    axes.set_xlim(0, min(1.0, max(reach) * 1.35))
    axes.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    noun, too_few = result.outcome.noun, result.unjudged()
    axes.set_xlabel(f"raises followed by {noun} within {result.horizon_days} days")
    axes.set_title(f"{result.team}: is {noun} more likely after a rule's warning than after any day?"
                   + (f"\n({too_few})" if too_few and result.episodes else ""), loc="left")  # fmt: skip


def _on_axis(ratio: float) -> float:
    """A relative risk inside ``RR_AXIS``: one past it (0, negative, huge) at its edge."""
    return min(max(ratio, RR_AXIS[0]), RR_AXIS[1])


def _relative_risk(axes: Axes, rows: pl.DataFrame) -> None:
    """Each row's relative risk and interval on a log axis, clipped to ``RR_AXIS``; 1 marked."""
    axes.set_xscale("log")
    axes.axvline(1.0, color=MARK, lw=1, zorder=1)
    for i, r in enumerate(rows.iter_rows(named=True)):
        colour = BEATS if r["beats_chance"] else NOT
        ratio, low, high = (finite(r[k]) for k in ("relative_risk", "rr_low", "rr_high"))
        if low is not None and ratio is not None and high is None:  # the data cannot bound it above
            high = RR_AXIS[1]
        if low is not None and high is not None:
            _segment(axes, i, _on_axis(low), _on_axis(high), color=colour, lw=1.5, marker="|", ms=8, zorder=2)
        if ratio is not None:
            axes.plot([_on_axis(ratio)], [i], "o", color=colour, zorder=3)
        axes.annotate(label(r)[1], (1.0, i), xycoords=("axes fraction", "data"), xytext=(-4, 5),
                      textcoords="offset points", ha="right", va="bottom", fontsize=8)  # fmt: skip
    axes.set_yticks(range(rows.height), [""] * rows.height)
    axes.set_xlim(*RR_AXIS)
    axes.set_xticks(RR_TICKS, [f"1/{1 / t:g}" if t < 1 else f"{t:g}" for t in RR_TICKS])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlabel("relative risk against days without a warning")
    axes.set_title("How much likelier after a warning?", loc="left")


def _recall(axes: Axes, result: TeamValidation, rows: pl.DataFrame) -> None:
    for i, r in enumerate(rows.iter_rows(named=True)):
        recall = finite(r["recall"])
        axes.barh(i, recall or 0.0, color=BEATS if r["beats_chance"] else NOT, height=0.6)
        if (chance := finite(r["chance_recall"])) is not None:
            axes.plot([chance] * 2, [i - 0.3, i + 0.3], color=MARK, lw=1)
        axes.annotate(label(r)[2], (recall or 0.0, i), xytext=(3, 0), textcoords="offset points", va="center",
                      fontsize=8)  # fmt: skip
    axes.set_yticks(range(rows.height), [""] * rows.height)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    noun = result.outcome.episodes_noun
    axes.set_xlabel(f"{noun} warned of beforehand (orange: random days)")
    axes.set_title(f"How many {noun} had a warning first?", loc="left")
