"""Sign-in and team isolation over HTTP (Starlette's TestClient), on SQLite and PostgreSQL.

Two teams' coaches and an admin (`tests.coaches`): each coach sees only their team on every
route, another team's athlete, alert or report answers exactly as a missing one, forms need
their CSRF token, wrong passwords are throttled, sign-out ends the session. Then a hostile
sweep (hypothesis) over every route: bad ids, traversal, huge strings, wrong methods, forged
cookies: never a 500, never another team's data. `leaks` is shown to catch a leak (the
admin's board) so that its silence means something.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from ingest.store import Store
from ingest.topics import alert_topic
from stridewatch.dashboard.app import DashboardConfig, create_app
from stridewatch.dashboard.auth import FREE_FAILURES, SESSION_COOKIE, gate_for
from stridewatch.teams import TeamsConfig
from tests.coaches import TEAMS, Coach, coaches, write_teams
from tests.mqtt_helpers import publish_all
from tests.scored_db import DAY_AFTER_MS, scored_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scored_database(request.param, tmp_path_factory.mktemp("access")) as url:
        yield url


@pytest.fixture(scope="module")
def people() -> dict[str, Coach]:
    return coaches()


@pytest.fixture(scope="module")
def stored(scored: str) -> dict[str, dict[str, list[str]]]:
    """Per team: its athletes and alert ids, as stored."""
    with Store(scored) as store:
        athletes = store.query("SELECT DISTINCT team, athlete FROM sessions")
        alerts = store.query("SELECT team, alert_id FROM alerts")
    out = {team: {"athletes": [a for t, a in athletes if t == team], "alerts": [i for t, i in alerts if t == team]}
           for team in TEAMS}  # fmt: skip
    assert all(v["athletes"] and v["alerts"] for v in out.values()), out  # both teams have alerts to leak
    return out


def make_app(db_url: str, people: dict[str, Coach], tmp_path: Path, *, mqtt_url: str | None = None) -> TestClient:
    path = tmp_path / "teams.toml"
    environ = write_teams(path, people)
    teams = TeamsConfig.load(path)
    gate, missing = gate_for(teams, secrets_dir=None, host="0.0.0.0", insecure_no_auth=False, environ=environ)
    assert not missing and not environ, "every password found, and taken out of the environment"
    app = create_app(
        DashboardConfig(
            db_url=db_url, teams=teams, mqtt_url=mqtt_url, poll_s=0.2, gate=gate, clock=lambda: DAY_AFTER_MS
        )
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def app_client(scored: str, people: dict[str, Coach], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_app(scored, people, tmp_path_factory.mktemp("teams")) as client:
        yield client


def token(client: TestClient, path: str = "/signin") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found[1]


def sign_in(client: TestClient, coach: Coach) -> TestClient:
    """``client`` signed in as ``coach`` (its cookies now hold the session)."""
    answer = client.post("/signin", data={"login": coach.login, "password": coach.password, "csrf": token(client)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client


@contextlib.contextmanager
def browser(app_client: TestClient, coach: Coach | None = None) -> Iterator[TestClient]:
    """A browser of its own (cookie jar) on the shared app, signed in as ``coach``."""
    with TestClient(app_client.app, raise_server_exceptions=False) as client:
        yield sign_in(client, coach) if coach else client


def leaks(body: str, stored: dict[str, dict[str, list[str]]], other: str, *, echoed: Sequence[str] = ()) -> list[str]:
    """What of team ``other``'s stored data ``body`` shows, once the request's own words
    (``echoed``, plain or HTML-escaped) are taken out: its alert ids, athlete rows and links."""
    for word in sorted(echoed, key=len, reverse=True):
        if word:
            body = body.replace(html.escape(word), "").replace(word, "")
    markers = list(stored[other]["alerts"])
    for athlete in stored[other]["athletes"]:
        markers += [f'data-athlete="{athlete}"', f'href="/athletes/{other}/{athlete}"', f"{athlete} ({other})"]
    return [m for m in markers if m in body]


def other_team(team: str) -> str:
    return next(t for t in TEAMS if t != team)


# -- sign-in ----------------------------------------------------------------------------


def test_pages_need_sign_in_and_static_files_do_not(app_client: TestClient) -> None:
    with browser(app_client) as anonymous:
        for path in ("/", "/alerts", "/report", "/athletes/club/rope-jumper"):
            answer = anonymous.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/signin?" + urllib.parse.urlencode({"next": path})
        assert anonymous.get("/events").status_code == 401
        assert anonymous.get("/static/style.css").status_code == 200


def test_the_session_cookie_is_httponly_samesite_and_expires(app_client: TestClient, people: dict[str, Coach]) -> None:
    with browser(app_client) as client:
        coach = people["club"]
        answer = client.post("/signin", data={"login": coach.login, "password": coach.password, "csrf": token(client)},
                             follow_redirects=False)  # fmt: skip
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "max-age", "path"} <= attributes
        assert "samesite=lax" in cookie.lower()
        assert coach.password not in cookie


def test_each_coach_sees_only_their_team(
    app_client: TestClient, people: dict[str, Coach], stored: dict[str, dict[str, list[str]]]
) -> None:
    for team in TEAMS:
        other = other_team(team)
        with browser(app_client, people[team]) as client:
            board = client.get("/")
            assert set(re.findall(r'data-athlete="([^"]+)"', board.text)) == set(stored[team]["athletes"])
            assert f"Signed in as <strong>{people[team].name}</strong>" in board.text
            for path in ("/", "/alerts", f"/report?team={team}", f"/athletes/{team}/{stored[team]['athletes'][0]}"):
                answer = client.get(path)
                assert answer.status_code == 200, path
                assert leaks(answer.text, stored, other) == [], path
            assert set(re.findall(r'data-alert-id="([^"]+)"', client.get("/alerts").text)) == set(
                stored[team]["alerts"]
            )


def test_another_teams_athlete_answers_exactly_as_a_missing_one(
    app_client: TestClient, people: dict[str, Coach], stored: dict[str, dict[str, list[str]]], scored: str
) -> None:
    with browser(app_client, people["club"]) as client:
        theirs = stored["poltava"]["athletes"][0]
        guessed = client.get(f"/athletes/poltava/{theirs}")
        missing = client.get(f"/athletes/nobody-team/{theirs}")
        assert guessed.status_code == missing.status_code == 404
        assert guessed.text.replace("poltava", "TEAM") == missing.text.replace("nobody-team", "TEAM")
        for path in ("/?team=poltava", "/alerts?team=poltava", "/report?team=poltava"):
            assert client.get(path).status_code == 404, path
        alert = stored["poltava"]["alerts"][0]
        refused = client.post(f"/alerts/{alert}/ack", data={"note": "mine now", "csrf": token(client, "/")})
        unknown = client.post("/alerts/al-nope/ack", data={"note": "mine now", "csrf": token(client, "/")})
        assert refused.status_code == unknown.status_code == 404
        assert refused.text.replace(alert, "ID") == unknown.text.replace("al-nope", "ID")
    with Store(scored) as store:
        assert store.query("SELECT count(*) FROM acknowledgements WHERE note = 'mine now'") == [(0,)]


def test_the_admin_sees_every_team_and_the_leak_check_would_catch_it(
    app_client: TestClient, people: dict[str, Coach], stored: dict[str, dict[str, list[str]]]
) -> None:
    with browser(app_client, people["admin"]) as client:
        board = client.get("/").text
        alerts = client.get("/alerts").text
    for team in TEAMS:  # what every coach test asserts is absent is found when it is there
        assert set(leaks(board, stored, team)) >= {f'data-athlete="{a}"' for a in stored[team]["athletes"]}
        assert set(leaks(alerts, stored, team)) >= set(stored[team]["alerts"])


def test_acknowledging_signs_with_the_coach_and_needs_the_csrf_token(
    app_client: TestClient, people: dict[str, Coach], stored: dict[str, dict[str, list[str]]], scored: str
) -> None:
    alert = stored["club"]["alerts"][0]
    with browser(app_client, people["club"]) as client:
        good = token(client, "/")
        for bad in ("", "0" * 64, good[:-1] + ("0" if good[-1] != "0" else "1")):
            answer = client.post(f"/alerts/{alert}/ack", data={"note": "forged", "csrf": bad})
            assert answer.status_code == 403 and "Form out of date" in answer.text
        with browser(app_client, people["poltava"]) as someone_else:  # a valid token of another session
            answer = client.post(f"/alerts/{alert}/ack", data={"note": "forged", "csrf": token(someone_else, "/")})
            assert answer.status_code == 403
        answer = client.post(f"/alerts/{alert}/ack", data={"note": "seen it", "by": "Someone Else", "csrf": good},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303
    with Store(scored) as store:
        rows = store.query("SELECT coach, note FROM acknowledgements WHERE alert_id = ? ORDER BY ts", (alert,))
    assert ("Ana Club", "seen it") in rows  # signed with the coach's own name, whatever the form says
    assert all(note != "forged" for _coach, note in rows)


def test_wrong_passwords_in_a_row_are_slowed_down(app_client: TestClient, people: dict[str, Coach]) -> None:
    coach = people["poltava"]
    with browser(app_client) as client:
        csrf = token(client)
        codes = [
            client.post("/signin", data={"login": coach.login, "password": f"guess-{i}", "csrf": csrf}).status_code
            for i in range(10)
        ]
        # FREE_FAILURES + 1 wrong answers (the last one starts a 1 s wait); the rest refused unchecked.
        assert codes == [401] * (FREE_FAILURES + 1) + [429] * (10 - FREE_FAILURES - 1)
        right = client.post("/signin", data={"login": coach.login, "password": coach.password, "csrf": csrf},
                            follow_redirects=False)  # fmt: skip
        assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1  # not even checked
        time.sleep(float(right.headers["retry-after"]) + 0.1)
        right = client.post("/signin", data={"login": coach.login, "password": coach.password, "csrf": csrf},
                            follow_redirects=False)  # fmt: skip
        assert right.status_code == 303


def test_sign_out_ends_the_session_even_for_a_copied_cookie(app_client: TestClient, people: dict[str, Coach]) -> None:
    with browser(app_client, people["club"]) as client:
        copied = client.cookies[SESSION_COOKIE]
        assert client.post("/signout", data={"csrf": token(client, "/")}, follow_redirects=False).status_code == 303
        assert client.get("/", follow_redirects=False).status_code == 303
    with browser(app_client) as thief:
        thief.cookies.set(SESSION_COOKIE, copied)
        answer = thief.get("/", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_the_live_stream_carries_only_the_coachs_team(
    scored: str, people: dict[str, Coach], broker: object, tmp_path: Path
) -> None:
    probes = {team: f"probe-{uuid.uuid4().hex[:8]}" for team in TEAMS}

    def alert(team: str) -> tuple[str, bytes]:
        body = {"team": team, "athlete": probes[team], "ts": int(time.time() * 1000), "level": "high", "score": 60,
                "state": "raised", "alert_id": f"al-{probes[team]}", "reasons": []}  # fmt: skip
        return alert_topic(team, probes[team]), json.dumps(body).encode()

    url = broker.url  # type: ignore[attr-defined]
    with (
        make_app(scored, people, tmp_path, mqtt_url=url) as app,
        browser(app, people["club"]) as client,
        client.stream("GET", "/events") as events,
    ):
        lines = events.iter_lines()
        assert next(lines) == "retry: 3000"
        publish_all(url, [alert("poltava"), alert("club")])
        seen = []
        for line in lines:
            if line.startswith("data:"):
                seen.append(json.loads(line.removeprefix("data:")))
                if seen[-1].get("athlete") == probes["club"]:
                    break
    assert [s["team"] for s in seen] == ["club"] * len(seen)
    assert probes["poltava"] not in json.dumps(seen)


# -- hostile input ----------------------------------------------------------------------

HOSTILE = [
    "..", "../../etc/passwd", "%2e%2e%2f", "..%2f..%2fetc", "club", "poltava", "rope-jumper", "restart", "al-nope",
    "' OR 1=1 --", "<script>alert(1)</script>", "\x00", "a" * 65, "2026-W99", "//evil.example", "https://evil.example/",
]  # fmt: skip
WORDS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.text(alphabet="ab%/.\\", min_size=1000, max_size=20_000),
)
PATHS = ["/", "/athletes/{}/{}", "/alerts", "/alerts/{}/ack", "/report", "/signin", "/signout", "/static/{}", "/{}"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    template=st.sampled_from(PATHS),
    cookie=st.sampled_from(["signed-in", "none", "forged", "tampered"]),
)
def test_hostile_requests_never_fail_and_never_show_another_team(
    app_client: TestClient, people: dict[str, Coach], stored: dict[str, dict[str, list[str]]],
    data: st.DataObject, method: str, template: str, cookie: str,
) -> None:  # fmt: skip
    parts = [data.draw(WORDS) for _ in range(template.count("{}"))]
    use_known = data.draw(st.booleans())
    if use_known and template.startswith("/athletes"):
        parts = ["poltava", stored["poltava"]["athletes"][0]]  # a guessed URL of the other team
    if use_known and template.startswith("/alerts/"):
        parts = [stored["poltava"]["alerts"][0]]
    quote = data.draw(st.booleans())
    path = template.format(*(urllib.parse.quote(p, safe="" if quote else "/.%") for p in parts))
    query = data.draw(
        st.dictionaries(st.sampled_from(["team", "week", "athlete", "next", "x" * 300]), WORDS, max_size=3)
    )
    form = data.draw(st.dictionaries(st.sampled_from(["csrf", "note", "by", "next", "login", "password"]), WORDS,
                                     max_size=4))  # fmt: skip
    with browser(app_client, people["club"] if cookie != "none" else None) as client:
        if cookie == "forged":
            client.cookies.set(SESSION_COOKIE, data.draw(WORDS.filter(lambda w: w.isascii() and w.isprintable())))
        elif cookie == "tampered":
            client.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE][:-2] + "xx")
        if data.draw(st.booleans()) and method == "POST":
            form["csrf"] = token(client, "/")
        answer = client.request(method, path, params=query, data=form or None, follow_redirects=False)
    assert answer.status_code < 500, (method, path, query, answer.text[:500])
    echoed = [*parts, *(urllib.parse.unquote(p) for p in parts), *query.values(), *form.values()]
    assert leaks(answer.text, stored, "poltava", echoed=echoed) == [], (method, path, query)
