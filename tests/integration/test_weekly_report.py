"""`stridewatch report`: a week of the seed scenarios as one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.store import Store
from stridewatch.cli import app
from stridewatch.dashboard.board import risk_order
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig

pytestmark = pytest.mark.integration


def test_team_report_holds_the_board_and_every_athletes_charts(seed_db: tuple[str, dt.date], tmp_path: Path) -> None:
    url, end = seed_db
    monday = end - dt.timedelta(days=end.weekday())
    out = tmp_path / "harriers.html"
    result = CliRunner().invoke(app, ["report", "--db", url, "--team", "harriers", "--week", f"{monday:%G-W%V}",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()

    # self-contained: inline CSS, no script, nothing fetched from anywhere
    assert "<style>" in html and "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)

    # the board, in the engine's order as of the end of the week
    at = int(dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), dt.UTC).timestamp() * 1000) - 1
    with Store(url) as store:
        engine = RiskEngine(store, TeamsConfig.default())
        expected = [a.athlete for a in sorted(engine.assess_all(at=at, team="harriers"), key=risk_order)]
    assert re.findall(r'<tr class="row-\w+" data-athlete="([^"]+)"', html) == expected

    # each athlete's section with its charts, valid SVG with their text alternative
    charts = re.findall(r'<svg role="img".*?</svg>', html, flags=re.S)
    for athlete in expected:
        assert f'id="athlete-{athlete}"' in html
        assert f'id="{athlete}-load-title"' in html and f'id="{athlete}-weekly-title"' in html
    assert len(charts) >= 4 * len(expected)
    for svg in charts:
        assert ET.fromstring(svg).find("{http://www.w3.org/2000/svg}desc") is not None
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_athlete_report_and_a_week_without_data(seed_db: tuple[str, dt.date], tmp_path: Path) -> None:
    url, end = seed_db
    week = f"{end:%G-W%V}"
    out = tmp_path / "restart.html"
    result = CliRunner().invoke(app, ["report", "--db", url, "--team", "poltava", "--athlete", "restart",
                                      "--week", week, "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Weekly report" in html and 'id="athlete-restart"' in html and "Who is at risk" not in html
    assert 'id="restart-pain-title"' in html

    empty = CliRunner().invoke(app, ["report", "--db", url, "--team", "poltava", "--week", "2001-W01",
                                     "--out", str(tmp_path / "none.html")])  # fmt: skip
    assert empty.exit_code == 1 and "nothing is stored for team poltava up to the end of 2001-W01" in empty.output
    assert not (tmp_path / "none.html").exists()
    bad = CliRunner().invoke(app, ["report", "--db", url, "--team", "poltava", "--week", "47", "--out", str(out)])
    assert bad.exit_code == 1 and "write it as an ISO week" in bad.output
