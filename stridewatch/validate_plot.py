"""``stridewatch validate --plot``: the table as a picture a coach reads at a glance (PNG, matplotlib).

Per team, one row per rule and severity that raised, best first (how much more often pain
followed it than followed random days): on the left, the share of its raises followed by
pain, with its 95% interval, over the band that random days reach; on the right, the share
of pain episodes it warned of. Rules that read the pain reports themselves are left out:
they follow pain, they cannot predict it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from stridewatch.validate import TeamValidation

BEATS, NOT, CHANCE = "#2e7d32", "#9e9e9e", "#ffcc80"


def write_plot(results: Sequence[TeamValidation], path: Path) -> None:
    """One PNG with a pair of panels per team."""
    rows = [_plotted(r.table) for r in results]
    height = sum(max(2.0, 0.45 * len(t) + 1.6) for t in rows)
    figure = Figure(figsize=(12, max(3.0, height)), layout="constrained")
    panels = figure.subplots(len(results), 2, squeeze=False, width_ratios=[3, 2])
    for (left, right), result, plotted in zip(panels, results, rows, strict=True):
        _team(left, right, result, plotted)
    figure.savefig(path, dpi=110)


def _plotted(table: pl.DataFrame) -> pl.DataFrame:
    return (
        table.filter(pl.col("independent") & (pl.col("raises") > 0))
        .with_columns(lift=pl.col("precision") - pl.col("chance_precision"))
        .sort("lift", descending=False)  # matplotlib draws the first row at the bottom
    )


def _team(left: object, right: object, result: TeamValidation, rows: pl.DataFrame) -> None:
    from matplotlib.axes import Axes

    assert isinstance(left, Axes) and isinstance(right, Axes)
    labels = [f"{r['rule'].replace('_', ' ')} ({r['severity']})" for r in rows.iter_rows(named=True)]
    y = list(range(rows.height))
    colours = [BEATS if b else NOT for b in rows["beats_chance"]]
    if not rows.height:
        left.text(0.5, 0.5, "no rule raised", ha="center", va="center", transform=left.transAxes)
    for i, r in enumerate(rows.iter_rows(named=True)):
        left.barh(i, r["chance_high"] - r["chance_low"], left=r["chance_low"], height=0.6, color=CHANCE, zorder=1)
        left.plot([r["chance_precision"]] * 2, [i - 0.3, i + 0.3], color="#e65100", lw=1, zorder=2)
        left.errorbar(r["precision"], i, xerr=[[r["precision"] - r["precision_low"]], [r["precision_high"] - r["precision"]]],
                      fmt="o", color=colours[i], capsize=3, zorder=3)  # fmt: skip
        left.annotate(f"p = {r['p_value']:.3f}, {r['raises']} raises", (1.0, i), xycoords=("axes fraction", "data"),
                      xytext=(-4, 0), textcoords="offset points", ha="right", va="center", fontsize=8)  # fmt: skip
    left.set_yticks(y, labels)
    widest = max([0.3, *rows["precision_high"].to_list(), *rows["chance_high"].to_list()])
    left.set_xlim(0, min(1.0, widest * 1.35))
    left.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    left.set_xlabel(f"raises followed by a pain report within {result.horizon_days} days")
    left.set_title(f"{result.team}: is pain more likely after a rule's warning than after any day?", loc="left")
    left.legend(
        handles=[
            Patch(color=BEATS, label="beats chance (p < 0.05)"),
            Patch(color=NOT, label="not better than chance"),
            Patch(color=CHANCE, label="random days, 95% of draws"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncols=3,
        fontsize=8,
    )
    right.barh(y, rows["recall"].to_list(), color=colours, height=0.6)
    for i, r in enumerate(rows.iter_rows(named=True)):
        if r["recall"] is not None:
            right.plot([r["chance_recall"]] * 2, [i - 0.3, i + 0.3], color="#e65100", lw=1)
            lead = r["median_lead_days"]
            right.annotate(f"{r['caught']}/{r['episodes']}" + (f", {lead:.0f} d ahead" if lead is not None else ""),
                           (r["recall"], i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    right.set_yticks(y, [""] * len(y))
    right.set_xlim(0, 1)
    right.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_xlabel("pain episodes warned of beforehand (orange: random days)")
    right.set_title("How many pain episodes had a warning first?", loc="left")
