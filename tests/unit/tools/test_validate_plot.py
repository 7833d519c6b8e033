"""`validate --plot` draws whatever numbers the statistics give, labelled with the table's own cells.

matplotlib's error bars raise "'xerr' must not contain negative values" when an interval's end lies
on the wrong side of its estimate or is NaN; the plot must draw any row, however degenerate."""

from __future__ import annotations

import io
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.text import Annotation
from rich.console import Console

from scoring.validation import ANY, INJURY, VALIDATION_SCHEMA, Outcome
from stridewatch.tools.validate import TeamValidation, cells, table
from stridewatch.tools.validate_plot import figure, label, plotted

ROW: dict[str, object] = {
    "rule": "longest_session",
    "severity": "moderate",
    "independent": True,
    "judged": True,
    "raises": 40,
    "followed": 9,
    "precision": 0.225,
    "precision_low": 0.12,
    "precision_high": 0.38,
    "quiet_days": 1800,
    "quiet_followed": 180,
    "baseline_risk": 0.1,
    "relative_risk": 2.25,
    "rr_low": 1.3,
    "rr_high": 3.9,
    "chance_precision": 0.14,
    "chance_low": 0.05,
    "chance_high": 0.25,
    "p_value": 0.02,
    "beats_chance": True,
    "episodes": 16,
    "caught": 5,
    "recall": 0.3125,
    "recall_low": 0.14,
    "recall_high": 0.56,
    "chance_recall": 0.2,
    "median_lead_days": 6.5,
    "verdict": "beats chance: ...",
}


def team(*rows: dict[str, object], outcome: Outcome = ANY) -> TeamValidation:
    table = pl.DataFrame([{**ROW, **r} for r in rows], schema=VALIDATION_SCHEMA)
    return TeamValidation("t1", 20, 2000, 14, table, outcome)


def drawn(result: TeamValidation) -> list[str]:
    """The PNG is rendered (matplotlib checks some values only when drawing); the row labels it holds."""
    shown = figure([result])
    shown.savefig(io.BytesIO(), format="png", dpi=30)
    return [t.get_text() for axes in shown.axes for t in axes.texts if isinstance(t, Annotation)]


def printed(result: TeamValidation) -> str:
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(table(result))
    return console.export_text()


def assert_same_numbers(result: TeamValidation) -> None:
    labels, text = drawn(result), printed(result)
    for row in plotted(result.table).iter_rows(named=True):
        assert set(label(row)) <= set(labels)
        for column in ("followed", "without warning", "relative risk", "random days", "p", "raises", "caught",
                       "lead days"):  # fmt: skip
            assert cells(row)[column] in text


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([{}], id="an ordinary row"),
        pytest.param(
            [{"precision": 1.0, "followed": 40, "precision_high": 0.9999999999999999}], id="estimate past its interval"
        ),
        pytest.param([{"precision": 0.0, "followed": 0, "precision_low": 1e-17}], id="estimate below its interval"),
        pytest.param([{"precision_low": 0.3, "precision_high": 0.2}], id="interval ends swapped"),
        pytest.param(
            [{"precision_low": 0.2, "precision_high": 0.2, "chance_low": 0.1, "chance_high": 0.1}], id="empty interval"
        ),
        pytest.param([{"precision_low": None, "precision_high": float("nan")}], id="no interval"),
        pytest.param([{"raises": 0, "severity": None, "precision": None, "p_value": None}], id="a rule never raised"),
        pytest.param(
            [
                {
                    "episodes": 0,
                    "caught": 0,
                    "recall": None,
                    "recall_low": None,
                    "recall_high": None,
                    "chance_recall": None,
                    "median_lead_days": None,
                    "followed": 0,
                    "precision": 0.0,
                    "precision_low": 0.0,
                }
            ],
            id="a team with no outcomes",
        ),
        pytest.param([{"chance_precision": float("nan"), "chance_low": None}], id="no chance baseline"),
        pytest.param([{"independent": False}], id="only rules that read pain"),
        pytest.param(
            [
                {
                    "raises": 0,
                    "followed": 0,
                    "precision": None,
                    "relative_risk": float("nan"),
                    "rr_low": None,
                    "rr_high": float("nan"),
                    "baseline_risk": float("nan"),
                }
            ],
            id="no raises, no relative risk",
        ),
        pytest.param([{"relative_risk": 1.7, "rr_low": 1.7, "rr_high": 1.7}], id="relative risk equal to its interval"),
        pytest.param([{"relative_risk": 2.0, "rr_low": 2.5, "rr_high": 1.5}], id="relative risk outside its interval"),
        pytest.param([{"relative_risk": 0.0, "rr_low": 0.0, "rr_high": None}], id="relative risk 0, unbounded"),
        pytest.param([{"relative_risk": 40.0, "rr_low": 9.0, "rr_high": 1e6}], id="relative risk past the axis"),
        pytest.param([{"relative_risk": float("nan"), "rr_low": -1.0, "rr_high": float("inf")}], id="nonsense"),
        pytest.param(
            [{"episodes": 3, "judged": False, "verdict": "too few injuries to judge: 3 in the data, 10 needed"}],
            id="too few outcomes",
        ),
    ],
)
def test_plot_draws_the_edge_cases_with_the_tables_numbers(rows: list[dict[str, object]]) -> None:
    assert_same_numbers(team(*rows))


def test_a_team_with_too_few_outcomes_is_drawn_and_printed_as_such() -> None:
    result = team({"episodes": 3, "judged": False, "verdict": "too few injuries to judge: 3 in the data, 10 needed"},
                  outcome=INJURY)  # fmt: skip
    assert cells(result.table.row(0, named=True))["beats chance?"] == "too few injuries to judge"
    assert "too few injuries to judge: 3 in the data, 10 needed" in printed(result)
    titles = [axes.get_title(loc="left") for axes in figure([result]).axes]
    assert any("too few injuries to judge" in t for t in titles)


def test_a_team_without_outcomes_is_a_line_in_the_picture() -> None:
    result = team({"episodes": 0, "caught": 0, "judged": False}, outcome=INJURY)
    shown = figure([result])
    shown.savefig(io.BytesIO(), format="png", dpi=30)
    assert plotted(result.table).is_empty()
    assert "t1: no injuries in the data" in " ".join(t.get_text() for t in shown.axes[0].texts)


SHARE = st.one_of(st.none(), st.just(math.nan), st.floats(-0.5, 1.5))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                k: SHARE
                for k in (
                    "precision",
                    "precision_low",
                    "precision_high",
                    "baseline_risk",
                    "relative_risk",
                    "rr_low",
                    "rr_high",
                    "chance_precision",
                    "chance_low",
                    "chance_high",
                    "recall",
                    "chance_recall",
                    "p_value",
                )
            }
            | {
                "raises": st.integers(0, 10_000),
                "episodes": st.integers(0, 500),
                "independent": st.booleans(),
                "beats_chance": st.booleans(),
                "median_lead_days": st.one_of(st.none(), st.floats(0, 60)),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_plot_draws_any_numbers(rows: list[dict[str, object]]) -> None:
    assert_same_numbers(team(*rows))
