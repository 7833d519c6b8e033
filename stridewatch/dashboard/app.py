"""`stridewatch dashboard`: the coach's web app (Starlette, server-rendered, no external assets).

Pages: the team board (``/``), an athlete's page (``/athletes/{team}/{athlete}``), the alert
history (``/alerts``), the weekly report (``/report``); ``POST /alerts/{alert_id}/ack``
acknowledges an alert, and ``/events`` streams alerts and acknowledgements to open pages
(`live`). ``/signin`` and ``/signout`` are `signin`'s.

Every route goes through `access.guarded` and shows or accepts only the viewer's teams:
another team's athlete, alert or report answers exactly as a missing one does (404, the
same words), so a guessed URL tells nothing. Every request opens its own store connection
(the store wants one per thread, and requests run on a pool); what was read and drawn is
kept between requests in `athlete_cache` and `chart_cache`, shared through the app's
`Dashboard` (Starlette's ``app.state``). A page only reads: the services keep the stored
session features up to date, and an import computes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ingest.mqtt import BrokerError
from ingest.store import Store
from ingest.topics import is_id
from stridewatch.dashboard.access import guarded, safe_next
from stridewatch.dashboard.acks import AckError, NoSuchAlert, record_ack
from stridewatch.dashboard.athlete_cache import AthleteCache
from stridewatch.dashboard.athlete_data import athlete_data
from stridewatch.dashboard.auth import Gate, Viewer
from stridewatch.dashboard.board import stored_teams, team_board
from stridewatch.dashboard.chart_cache import ChartCache
from stridewatch.dashboard.charts import athlete_charts
from stridewatch.dashboard.history import alert_history
from stridewatch.dashboard.live import LiveFeed, MqttLink, poll_changes
from stridewatch.dashboard.rendering import STATIC, environment
from stridewatch.dashboard.report import ReportError, last_full_week, parse_week, weekly_report
from stridewatch.dashboard.signin import signin_handlers
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.dashboard")


@dataclass(frozen=True, kw_only=True)
class DashboardConfig:
    db_url: str
    teams: TeamsConfig
    mqtt_url: str | None = None
    poll_s: float = 5.0  # without a broker: how often the database is checked for new alerts
    gate: Gate = field(default_factory=lambda: Gate({}))  # no accounts: sign-in is off (loopback only)
    clock: Callable[[], int] = lambda: int(time.time() * 1000)  # the "now" pages judge and report as of, epoch ms


@dataclass(eq=False)
class Dashboard:
    """What the pages share, made once per app and reached as ``request.app.state.dashboard``."""

    config: DashboardConfig
    templates: Jinja2Templates
    feed: LiveFeed
    link: MqttLink | None
    athletes: AthleteCache
    charts: ChartCache


def _dashboard(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.dashboard
    return found


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    dashboard = _dashboard(request)
    return dashboard.templates.TemplateResponse(request, name, {
        "standalone": False, "viewer": request.state.viewer, "csrf": request.state.csrf,
        "sign_in": dashboard.config.gate.required, **context,
    }, status_code=status_code)  # fmt: skip


def refuse(request: Request, status_code: int, heading: str, message: str, back: str = "/") -> Response:
    return page(request, "error.html", {"page": "", "heading": heading, "message": message, "back": back},
                status_code=status_code)  # fmt: skip


def _viewer(request: Request) -> Viewer:
    found: Viewer = request.state.viewer
    return found


def _teams_shown(request: Request, store: Store) -> list[str] | None:
    """The teams a page shows: the ``team`` asked for, else every team the viewer sees;
    None when the viewer may not see the team asked for (or it is no team id)."""
    team = request.query_params.get("team") or None
    if team is not None:
        return [team] if is_id(team) and _viewer(request).sees(team) else None
    return [t for t in stored_teams(store) if _viewer(request).sees(t)]


def _no_such_team(request: Request) -> Response:
    return refuse(request, 404, "No such team", "There is no team by that name for you.")


def board(request: Request) -> Response:
    dashboard = _dashboard(request)
    config = dashboard.config
    at = config.clock()
    with Store(config.db_url) as store:
        shown = _teams_shown(request, store)
        if shown is None:
            return _no_such_team(request)
        rows = team_board(store, dashboard.athletes, at=at, teams=shown)
        teams = [t for t in stored_teams(store) if _viewer(request).sees(t)]
    live_note = (
        "Updates live from the broker." if dashboard.link else f"Checks for new alerts every {config.poll_s:g} s."
    )
    team = request.query_params.get("team") or None
    return page(request, "board.html", {
        "page": "board", "rows": rows, "team": team, "teams": teams, "as_of": at,
        "as_of_text": dt.datetime.fromtimestamp(at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "live_note": live_note, "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    })  # fmt: skip


def athlete(request: Request) -> Response:
    dashboard = _dashboard(request)
    config = dashboard.config
    team, name = request.path_params["team"], request.path_params["athlete"]
    at = config.clock()
    state = None
    if is_id(team) and is_id(name) and _viewer(request).sees(team):
        with Store(config.db_url) as store:
            state = dashboard.athletes.athlete(store, team, name, at=at)
            entries = alert_history(store, team=team, athlete=name) if state else []
    if state is None:  # missing, or another team's: the same answer
        return refuse(request, 404, "No such athlete", f"Nothing is stored for {name} in team {team}.")
    team_config = config.teams.team(team)
    data = athlete_data(state.features, state.pain, team_config, name, at=at)
    return page(request, "athlete.html", {
        "page": "athlete", "team": team, "athlete": name, "assessment": state.assessment, "data": data,
        "charts": athlete_charts(data, team_config.thresholds, cache=dashboard.charts), "entries": entries,
        "back": request.url.path,
    })  # fmt: skip


def alerts(request: Request) -> Response:
    config = _dashboard(request).config
    with Store(config.db_url) as store:
        shown = _teams_shown(request, store)
        if shown is None:
            return _no_such_team(request)
        entries = sorted((e for t in shown for e in alert_history(store, team=t)),
                         key=lambda e: (-e.updated_ts, e.alert_id))  # fmt: skip
        teams = [t for t in stored_teams(store) if _viewer(request).sees(t)]
    team = request.query_params.get("team") or None
    back = "/alerts" + (f"?team={team}" if team else "")
    return page(request, "alerts.html", {"page": "alerts", "entries": entries, "team": team, "teams": teams,
                                         "back": back})  # fmt: skip


def report(request: Request) -> Response:
    dashboard = _dashboard(request)
    config = dashboard.config
    with Store(config.db_url) as store:
        teams = [t for t in stored_teams(store) if _viewer(request).sees(t)]
        team = request.query_params.get("team") or (teams[0] if len(teams) == 1 else None)
        if team is None:
            return page(request, "report_pick.html", {"page": "report", "teams": teams})
        if not (is_id(team) and _viewer(request).sees(team)):
            return _no_such_team(request)
        who = request.query_params.get("athlete") or None
        try:
            week = request.query_params.get("week")
            today = dt.datetime.fromtimestamp(config.clock() / 1000, dt.UTC).date()
            monday = parse_week(week) if week else last_full_week(today)
            if who is not None and not is_id(who):
                raise ReportError(f"nothing is stored for athlete {who} of team {team}")
            html = weekly_report(store, dashboard.athletes, team=team, athlete=who, week=monday,
                                 made_ms=config.clock())  # fmt: skip
        except ReportError as exc:
            return refuse(request, 404, "No report", str(exc), back="/report")
    return HTMLResponse(html)


async def acknowledge(request: Request) -> Response:
    dashboard = _dashboard(request)
    alert_id = request.path_params["alert_id"]
    form = await request.form()
    back = safe_next(form.get("next"))
    coach = _viewer(request)

    def store_it() -> Any:
        with Store(dashboard.config.db_url) as store:
            return record_ack(store, alert_id, by=coach.name or str(form.get("by") or ""),
                              note=str(form.get("note") or ""), ts=int(time.time() * 1000), teams=coach.teams)  # fmt: skip

    try:
        ack = await run_in_threadpool(store_it)
    except AckError as exc:
        status = 404 if isinstance(exc, NoSuchAlert) else 400
        return refuse(request, status, "Not acknowledged", str(exc), back=back)
    log.info("alert acknowledged", extra={"alert_id": ack.alert_id, "athlete": ack.athlete, "by": ack.by})
    if dashboard.link is not None:
        try:
            await run_in_threadpool(dashboard.link.publish, ack.topic, ack.payload())
        except BrokerError as exc:  # stored all the same; this dashboard's pages still see it
            log.warning("acknowledgement stored but not published", extra={"error": str(exc)})
    return RedirectResponse(back, status_code=303)


async def events(request: Request) -> Response:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    feed = _dashboard(request).feed
    return StreamingResponse(feed.stream(_viewer(request)), media_type="text/event-stream", headers=headers)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dashboard: Dashboard = app.state.dashboard
    dashboard.feed.bind(asyncio.get_running_loop())
    if dashboard.link is not None:
        await asyncio.to_thread(dashboard.link.start)
        try:
            yield
        finally:
            dashboard.link.stop()
        return
    poller = asyncio.create_task(poll_changes(dashboard.config.db_url, dashboard.feed, dashboard.config.poll_s))
    try:
        yield
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller


def create_app(config: DashboardConfig) -> Starlette:
    """The dashboard as an ASGI app; the store is migrated (acknowledgements table) here."""
    with Store(config.db_url) as store:
        store.migrate()
    feed = LiveFeed()
    gate = config.gate
    signin = signin_handlers(gate, page)

    def route(path: str, handler: Callable[[Request], Any], *, methods: list[str] | None = None, **kw: Any) -> Route:
        return Route(path, guarded(gate, handler, refuse=refuse, **kw), methods=methods)

    app = Starlette(
        routes=[
            route("/", board),
            route("/athletes/{team}/{athlete}", athlete),
            route("/alerts", alerts),
            route("/alerts/{alert_id}/ack", acknowledge, methods=["POST"]),
            route("/report", report),
            route("/events", events, stream=True),
            route("/signin", signin["form"], public=True),
            route("/signin", signin["sign_in"], methods=["POST"], public=True),
            route("/signout", signin["sign_out"], methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.dashboard = Dashboard(
        config=config,
        templates=Jinja2Templates(env=environment(config.teams)),
        feed=feed,
        link=MqttLink(config.mqtt_url, feed) if config.mqtt_url else None,
        athletes=AthleteCache(config.teams),
        charts=ChartCache(),
    )
    return app


@contextlib.contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """matplotlib, scipy and polars leave ~150,000 objects that live as long as the process:
    out of the cyclic collector's way, its full passes stop stalling a request by 100-200 ms."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def serve(config: DashboardConfig, *, host: str, port: int) -> None:
    """Run the dashboard until Ctrl-C or SIGTERM. Behind a TLS proxy on this machine, uvicorn
    takes the client's address and scheme from X-Forwarded-For/-Proto (it trusts 127.0.0.1)."""
    import uvicorn

    app = create_app(config)
    with startup_objects_frozen():
        # Open event streams would hold the shutdown forever: give them a second.
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1, proxy_headers=True)
