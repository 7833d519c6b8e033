"""The dashboard's pages and acknowledgements over HTTP (Starlette's TestClient), on each database."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ingest.store import Store
from scoring.thresholds import DEFAULT_THRESHOLDS, RULE_IDS
from stridewatch.dashboard.app import DashboardConfig, create_app
from stridewatch.dashboard.board import risk_order
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig
from tests.scored_db import DAY_AFTER_MS, scored_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Built once per backend for the module: the tests only add acknowledgements to it."""
    with scored_database(request.param, tmp_path_factory.mktemp("dashboard")) as url:
        yield url


@pytest.fixture
def client(scored: str) -> Iterator[TestClient]:
    app = create_app(
        DashboardConfig(db_url=scored, teams=TeamsConfig.default(), poll_s=0.2, clock=lambda: DAY_AFTER_MS)
    )
    with TestClient(app) as c:
        yield c


def csrf(client: TestClient) -> str:
    """The token this browser's forms carry (its nonce cookie is kept by the client)."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/alerts").text)
    assert found, "no form carries a CSRF token"
    return found[1]


def open_alert(db_url: str) -> tuple[str, str, str]:
    with Store(db_url) as store:
        rows = store.query("SELECT alert_id, team, athlete FROM alerts WHERE state <> 'cleared' ORDER BY alert_id")
    assert rows, "no open alert to acknowledge"
    return rows[0]


def test_board_lists_athletes_in_the_engines_risk_order(client: TestClient, scored: str) -> None:
    page = client.get("/")
    assert page.status_code == 200
    at = int(re.search(r'data-as-of="(\d+)"', page.text)[1])  # type: ignore[index]
    with Store(scored) as store:
        expected = [
            a.athlete for a in sorted(RiskEngine(store, TeamsConfig.default()).assess_all(at=at), key=risk_order)
        ]
    assert re.findall(r'<tr class="row-\w+" data-athlete="([^"]+)"', page.text) == expected
    assert len(expected) == 2


def test_athlete_page_draws_every_chart(client: TestClient) -> None:
    page = client.get("/athletes/club/rope-jumper")
    assert page.status_code == 200
    figures = re.findall(r'<figure class="chart-card" id="chart-(\w+)">(.*?)</figure>', page.text, flags=re.S)
    assert [key for key, _ in figures] == ["load", "weekly", "cadence", "symmetry", "surfaces", "shoes", "pain"]
    drawn = {key for key, body in figures if '<svg role="img"' in body}
    assert {"load", "weekly", "cadence", "symmetry", "pain"} <= drawn  # the rope jumper has impacts and pain


def test_each_reason_states_the_evidence_behind_its_grade(client: TestClient, scored: str) -> None:
    page = client.get("/athletes/club/rope-jumper")
    shown = re.findall(r'<li title="Evidence: ([^"]+)">', page.text)
    assert shown, "the rope jumper has reasons, each with its evidence"
    assert re.findall(r'class="evidence">Evidence: ([^<]+)<', page.text) == shown  # spelled out under each
    known = {DEFAULT_THRESHOLDS.rule(r).evidence for r in RULE_IDS}
    assert {html.unescape(e) for e in shown} <= known


def test_unknown_athlete_is_a_404_page(client: TestClient) -> None:
    page = client.get("/athletes/club/nobody")
    assert page.status_code == 404 and "Nothing is stored for nobody" in page.text


def test_acknowledging_stores_it_and_the_board_shows_it(client: TestClient, scored: str) -> None:
    alert_id, team, athlete = open_alert(scored)
    answer = client.post(f"/alerts/{alert_id}/ack", data={"by": "Coach Kim", "note": "rest day tomorrow", "next": "/", "csrf": csrf(client)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    with Store(scored) as store:
        rows = store.query(
            "SELECT team, athlete, note FROM acknowledgements WHERE alert_id = ? AND coach = 'Coach Kim'", (alert_id,)
        )
    assert rows == [(team, athlete, "rest day tomorrow")]
    row = re.search(rf'data-athlete="{athlete}".*?</tr>', client.get("/").text, flags=re.S)
    assert row and "Acknowledged by <strong>Coach Kim</strong>" in row[0] and "rest day tomorrow" in row[0]
    assert "Coach Kim" in client.get("/alerts").text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"by": "  "}, "by: String should have at least 1 character"),
        ({"by": "x" * 65}, "by: String should have at most 64"),
    ],
)
def test_an_acknowledgement_needs_a_name(client: TestClient, scored: str, form: dict[str, str], message: str) -> None:
    alert_id, _team, _athlete = open_alert(scored)
    answer = client.post(f"/alerts/{alert_id}/ack", data={**form, "csrf": csrf(client)})
    assert answer.status_code == 400 and message in answer.text


def test_acknowledging_an_unknown_alert_fails_and_next_stays_in_the_app(client: TestClient, scored: str) -> None:
    token = csrf(client)
    unknown = client.post("/alerts/al-nope/ack", data={"by": "Kim", "csrf": token})
    assert unknown.status_code == 404 and "there is no alert" in unknown.text
    alert_id, _team, _athlete = open_alert(scored)
    answer = client.post(f"/alerts/{alert_id}/ack", data={"by": "Kim", "next": "https://elsewhere.example/", "csrf": token},
                         follow_redirects=False)  # fmt: skip
    assert answer.headers["location"] == "/"


def test_pages_hear_of_a_new_acknowledgement_without_a_broker(client: TestClient, scored: str) -> None:
    alert_id, _team, _athlete = open_alert(scored)
    with client.stream("GET", "/events") as events:
        lines = events.iter_lines()
        assert next(lines) == "retry: 3000"
        client.post(f"/alerts/{alert_id}/ack", data={"by": "Kim", "csrf": csrf(client)})
        assert [line for line in (next(lines) for _ in range(4)) if line.startswith("event:")] == ["event: changed"]


def test_static_files_are_served(client: TestClient) -> None:
    assert "EventSource" in client.get("/static/live.js").text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
