"""The coach dashboard in headless Chromium, on the seed scenarios, with a real broker.

`stridewatch dashboard` runs as its own process on a free port. The board must list the
seed athletes in the risk engine's order, an athlete page must draw its charts, an
acknowledgement must show on the board, be stored and reach the MQTT acks topic (retained),
and another coach's acknowledgement and a new alert must reach an open board without a
reload. Screenshots (desktop and phone) go to the test's folder; the path is printed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from ingest.store import Store
from ingest.topics import alert_topic
from simulators import list_scenarios, load_scenario
from stridewatch.broker.local import free_port
from stridewatch.dashboard.board import risk_order
from stridewatch.risk.engine import RiskEngine
from stridewatch.teams import TeamsConfig
from tests.browser import chromium, screenshot
from tests.coaches import Coach, coaches, write_teams
from tests.mqtt_helpers import Collector, publish_all, wait_until

pytestmark = pytest.mark.integration
PHONE = 390  # CSS pixels: a phone held upright


@pytest.fixture
def dashboard(seed_db: tuple[str, dt.date], broker: object, tmp_path: Path) -> Iterator[str]:
    """A copy of the seed database served by `stridewatch dashboard` with the broker; its base URL."""
    with serving(seed_db[0], broker, tmp_path) as base:
        yield base


@pytest.fixture
def coaches_dashboard(
    seed_db: tuple[str, dt.date], broker: object, tmp_path: Path
) -> Iterator[tuple[str, dict[str, Coach]]]:
    """The same with sign-in for two teams' coaches (`tests.coaches`): base URL and the coaches.
    Their passwords reach the process in its environment, as `stridewatch provision` reads them."""
    people = coaches()
    environ = write_teams(tmp_path / "teams.toml", people)
    with serving(seed_db[0], broker, tmp_path, "--teams", str(tmp_path / "teams.toml"), environ=environ) as base:
        yield base, people


@contextmanager
def serving(
    seed_url: str, broker: object, tmp_path: Path, *args: str, environ: dict[str, str] | None = None
) -> Iterator[str]:
    db = tmp_path / "dashboard.db"
    with closing(sqlite3.connect(seed_url.removeprefix("sqlite:///"))) as seed, closing(sqlite3.connect(db)) as copy:
        seed.backup(copy)  # each test acknowledges on a copy of its own
    port = free_port()
    log = (tmp_path / "dashboard.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "stridewatch", "dashboard", "--db", f"sqlite:///{db}",
         "--mqtt-url", broker.url, "--port", str(port), *args],  # type: ignore[attr-defined]
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(environ or {})},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base) or process.poll() is not None, timeout=60, what="the dashboard to answer")
        assert process.poll() is None, f"the dashboard exited: {(tmp_path / 'dashboard.log').read_text()}"
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/static/live.js", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _board_athletes(driver: webdriver.Chrome) -> list[str]:
    return [
        row.get_attribute("data-athlete") or "" for row in driver.find_elements(By.CSS_SELECTOR, "table.board tbody tr")
    ]


def _row(driver: webdriver.Chrome, athlete: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f'tr[data-athlete="{athlete}"]').text)


def test_coach_dashboard_in_chromium(
    dashboard: str, browser: webdriver.Chrome, broker: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = broker.url  # type: ignore[attr-defined]
    db = f"sqlite:///{tmp_path / 'dashboard.db'}"
    shots = tmp_path / "screenshots"
    # a live refresh may swap the region while a row is read: read it again
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))

    # The board: every seed athlete, in the risk engine's order as of the board's own time.
    browser.get(f"{dashboard}/")
    at = int(browser.find_element(By.CSS_SELECTOR, "time[data-as-of]").get_attribute("data-as-of") or 0)
    with Store(db) as store:
        expected = [
            a.athlete for a in sorted(RiskEngine(store, TeamsConfig.default()).assess_all(at=at), key=risk_order)
        ]
    seeded = {athlete.id for name in list_scenarios() for athlete in load_scenario(name).athletes}
    assert _board_athletes(browser) == expected
    assert set(expected) == seeded
    levels = [browser.find_element(By.CSS_SELECTOR, f'tr[data-athlete="{a}"] .level').text for a in expected]
    assert all(
        level.split()[0] in ("LOW", "MODERATE", "HIGH", "CRITICAL") for level in levels
    )  # words, not colour alone
    screenshot(browser, shots / "board-desktop.png", width=1280)

    # Keyboard: the first Tab reaches the skip link, which leads to the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to the content"

    # An athlete page draws its charts: the restart runner has impacts, descents, shoes and pain.
    browser.find_element(By.LINK_TEXT, "restart").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "figure.chart-card"))
    figures = browser.find_elements(By.CSS_SELECTOR, "figure.chart-card")
    assert len(figures) == 7
    for figure in figures:
        svg = figure.find_element(By.CSS_SELECTOR, "svg[role=img]")
        title = figure.find_element(By.TAG_NAME, "h3").text
        assert svg.size["width"] > 200 and svg.size["height"] > 50, title
        assert len(svg.find_elements(By.TAG_NAME, "path")) > 3, title
        assert figure.find_element(By.TAG_NAME, "figcaption").text, title
    screenshot(browser, shots / "athlete-desktop.png", width=1280)

    # Acknowledge the top open alert from the board; it is stored and published, retained.
    with Store(db) as store:
        open_alerts = store.query(
            "SELECT alert_id, team, athlete FROM alerts WHERE state <> 'cleared' ORDER BY raised_ts"
        )
    assert len(open_alerts) >= 2, open_alerts
    (alert_id, team, athlete), (other_id, other_team, other_athlete) = open_alerts[:2]
    with Collector(url, "stridewatch/v1/+/acks/+") as acks:
        browser.get(f"{dashboard}/")
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-athlete="{athlete}"]')
        row.find_element(By.TAG_NAME, "summary").click()
        row.find_element(By.NAME, "by").send_keys("Coach Ana")
        row.find_element(By.NAME, "note").send_keys("easy week, then we talk")
        row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: "Acknowledged by Coach Ana" in _row(d, athlete))
        assert "easy week, then we talk" in _row(browser, athlete)
        wait_until(lambda: any(t.endswith(f"/acks/{athlete}") for t, _p, _r in acks.snapshot()), timeout=10,
                   what="the acknowledgement on the acks topic")  # fmt: skip
    topic, payload, _retained = next(m for m in acks.snapshot() if m[0].endswith(f"/acks/{athlete}"))
    ack = json.loads(payload)
    assert topic == f"stridewatch/v1/{team}/acks/{athlete}"
    assert {k: ack[k] for k in ("alert_id", "athlete", "by", "note")} == {
        "alert_id": alert_id, "athlete": athlete, "by": "Coach Ana", "note": "easy week, then we talk"}  # fmt: skip
    with Store(db) as store:
        stored = store.query("SELECT coach, note, ts FROM acknowledgements WHERE alert_id = ?", (alert_id,))
    assert stored == [("Coach Ana", "easy week, then we talk", ack["ts"])]
    with Collector(url, f"stridewatch/v1/{team}/acks/{athlete}") as late:  # a coach app connecting later
        wait_until(lambda: bool(late.snapshot()), timeout=10, what="the retained acknowledgement")
        assert late.snapshot()[0][2] is True

    # Another coach acknowledges from elsewhere: the open board updates without a reload.
    browser.execute_script("window.stillTheSamePage = true")
    elsewhere = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # a browser of its own
    with elsewhere.open(f"{dashboard}/alerts", timeout=30) as page:
        token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())[1]  # type: ignore[index]
    form = urllib.parse.urlencode({"by": "Coach Ben", "note": "", "next": "/", "csrf": token}).encode()
    with elsewhere.open(f"{dashboard}/alerts/{other_id}/ack", data=form, timeout=30) as answer:
        assert answer.status == 200
    wait.until(lambda d: "Acknowledged by Coach Ben" in _row(d, other_athlete))
    assert browser.execute_script("return window.stillTheSamePage") is True
    assert "Coach Ben acknowledged the alert for" in browser.find_element(By.ID, "live-status").text

    # A new alert on the broker reaches the open board too (an athlete of no stored team: no trace left).
    ghost = {"team": "ghosts", "athlete": "ghost", "ts": int(time.time() * 1000), "level": "high", "score": 60,
             "state": "raised", "alert_id": "al-ghost", "reasons": []}  # fmt: skip
    publish_all(url, [(alert_topic("ghosts", "ghost"), json.dumps(ghost).encode())])
    wait.until(lambda d: "Risk for ghost is now HIGH" in d.find_element(By.ID, "live-status").text)
    assert other_team

    # A phone-sized window: no sideways scrolling, and the board still lists everyone.
    browser.set_window_size(PHONE, 844)
    browser.refresh()
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE
    assert _board_athletes(browser) == expected
    screenshot(browser, shots / "board-phone.png", width=PHONE)
    browser.get(f"{dashboard}/athletes/poltava/restart")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE
    screenshot(browser, shots / "athlete-phone.png", width=PHONE)
    with capsys.disabled():
        print(f"\ndashboard screenshots: {shots}")


def _sign_in(driver: webdriver.Chrome, base: str, login: str, password: str) -> None:
    """Fill the sign-in form and send it; returns once the answer's page has loaded."""
    driver.get(f"{base}/signin")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.execute_script("window.beforeSubmit = true")  # gone once the answer's page is the document
    driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.beforeSubmit && document.readyState === 'complete'")
    )


def test_two_coaches_of_two_teams_in_chromium(
    coaches_dashboard: tuple[str, dict[str, Coach]], browser: webdriver.Chrome, broker: object, tmp_path: Path
) -> None:
    base, people = coaches_dashboard
    db = f"sqlite:///{tmp_path / 'dashboard.db'}"
    url = broker.url  # type: ignore[attr-defined]
    with Store(db) as store:
        athletes = {team: {a for (a,) in store.query("SELECT DISTINCT athlete FROM sessions WHERE team = ?", (team,))}
                    for team in ("club", "poltava")}  # fmt: skip

    # A page asks for sign-in first, and comes back to it after.
    browser.get(f"{base}/athletes/club/rope-jumper")
    assert browser.current_url.startswith(f"{base}/signin")
    for team, other in (("club", "poltava"), ("poltava", "club")):
        _one_coach(browser, base, url, db, people[team], team=team, other=other, athletes=athletes)

    # Ten wrong passwords in a row: after the free ones, the form says to wait.
    problems = []
    for i in range(10):
        _sign_in(browser, base, people["club"].login, f"wrong-{i}")
        problems.append(browser.find_element(By.CSS_SELECTOR, ".problem").text)
    assert problems[0] == "Wrong login or password."
    assert any(p.startswith("Too many wrong passwords") for p in problems)
    screenshot(browser, tmp_path / "screenshots" / "signin-slowed.png", width=PHONE)


def _one_coach(
    browser: webdriver.Chrome, base: str, url: str, db: str, coach: Coach, *, team: str, other: str,
    athletes: dict[str, set[str]],
) -> None:  # fmt: skip
    """``coach`` of ``team`` signs in, sees only their athletes, alerts and acknowledgements
    (never ``other``'s), has a forged form refused, and signs out."""
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))

    _sign_in(browser, base, coach.login, coach.password)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "header .signout"))
    browser.get(f"{base}/")
    assert set(_board_athletes(browser)) == athletes[team], team
    assert f"Signed in as {coach.name}" in browser.find_element(By.CSS_SELECTOR, "header .signout").text

    # The other team's athlete by a guessed URL: the page a missing athlete gets.
    theirs = sorted(athletes[other])[0]
    browser.get(f"{base}/athletes/{other}/{theirs}")
    guessed = browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{base}/athletes/no-such-team/{theirs}")
    assert guessed.replace(other, "T") == browser.find_element(By.TAG_NAME, "main").text.replace("no-such-team", "T")
    assert browser.find_element(By.TAG_NAME, "h1").text == "No such athlete"

    # The live stream: the other team's alert never arrives, the coach's own does.
    browser.get(f"{base}/")
    browser.execute_script(
        "window.heard = []; var s = new EventSource('/events');"
        "s.addEventListener('alert', function (e) { window.heard.push(JSON.parse(e.data)); });"
        "s.onopen = function () { window.streamOpen = true; };"
    )
    wait.until(lambda d: d.execute_script("return window.streamOpen === true"))
    probes = {t: f"probe-{t}-{time.time_ns()}" for t in (other, team)}
    publish_all(url, [
        (alert_topic(t, probes[t]), json.dumps({"team": t, "athlete": probes[t], "ts": int(time.time() * 1000),
         "level": "high", "score": 60, "state": "raised", "alert_id": f"al-{t}", "reasons": []}).encode())
        for t in (other, team)
    ])  # fmt: skip
    wait.until(lambda d: probes[team] in json.dumps(d.execute_script("return window.heard")))
    heard = browser.execute_script("return window.heard")
    assert {h["team"] for h in heard} == {team} and probes[other] not in json.dumps(heard)

    # An acknowledgement whose CSRF token was tampered with is refused, and not stored.
    with Store(db) as store:
        (alert_id,) = store.query(
            "SELECT alert_id FROM alerts WHERE team = ? AND state <> 'cleared' ORDER BY raised_ts", (team,)
        )[0]
    browser.get(f"{base}/alerts")
    browser.execute_script(  # in one go: a live refresh may swap the list between steps
        "var form = document.querySelector('li[data-alert-id=\"' + arguments[0] + '\"] form');"
        "form.querySelector('input[name=csrf]').value = 'forged';"
        "form.querySelector('[name=note]').value = 'forged'; form.requestSubmit();",
        alert_id,
    )
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Form out of date")
    with Store(db) as store:
        assert store.query("SELECT count(*) FROM acknowledgements WHERE alert_id = ?", (alert_id,)) == [(0,)]

    # Sign-out ends the session: pages ask for sign-in again.
    browser.get(f"{base}/")
    browser.find_element(By.CSS_SELECTOR, "header .signout button").click()
    wait.until(lambda d: d.current_url.startswith(f"{base}/signin"))
    browser.get(f"{base}/alerts")
    assert browser.current_url.startswith(f"{base}/signin")
