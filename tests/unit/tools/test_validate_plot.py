"""`validate --plot` draws whatever numbers the statistics give, labelled with the table's own cells."""

from __future__ import annotations

import io
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.text import Annotation
from rich.console import Console

from scoring.validation import VALIDATION_SCHEMA
from stridewatch.tools.validate import TeamValidation, cells, table
from stridewatch.tools.validate_plot import figure, label, plotted

ROW: dict[str, object] = {
    "rule": "longest_session",
    "severity": "moderate",
    "independent": True,
    "raises": 40,
    "followed": 9,
    "precision": 0.225,
    "precision_low": 0.12,
    "precision_high": 0.38,
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


def team(*rows: dict[str, object]) -> TeamValidation:
    return TeamValidation("t1", 20, 2000, 14, pl.DataFrame([{**ROW, **r} for r in rows], schema=VALIDATION_SCHEMA))


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
        for column in ("followed by pain", "random days", "p", "raises", "caught", "lead days"):
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
    ],
)
def test_plot_draws_the_edge_cases_with_the_tables_numbers(rows: list[dict[str, object]]) -> None:
    assert_same_numbers(team(*rows))


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
