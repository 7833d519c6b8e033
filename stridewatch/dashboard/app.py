"""`stridewatch dashboard`: the coach's web app (Starlette, server-rendered, no external assets).

Pages: the team board (``/``), an athlete's page (``/athletes/{team}/{athlete}``), the alert
history (``/alerts``); ``POST /alerts/{alert_id}/ack`` acknowledges an alert, and
``/events`` streams alerts and acknowledgements to open pages (`live`). Every request opens
its own store connection: the store wants one per thread, and requests run on a pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ingest.mqtt import BrokerError
from ingest.store import Store
from stridewatch.dashboard.acks import AckError, record_ack
from stridewatch.dashboard.athlete_data import load_athlete
from stridewatch.dashboard.board import team_board
from stridewatch.dashboard.charts import athlete_charts
from stridewatch.dashboard.history import alert_history
from stridewatch.dashboard.live import LiveFeed, MqttLink, poll_changes
from stridewatch.dashboard.rendering import STATIC, environment
from stridewatch.risk import RiskEngine
from stridewatch.teams import TeamsConfig

log = logging.getLogger("stridewatch.dashboard")


@dataclass(frozen=True, kw_only=True)
class DashboardConfig:
    db_url: str
    teams: TeamsConfig
    mqtt_url: str | None = None
    poll_s: float = 5.0  # without a broker: how often the database is checked for new alerts


def now_ms() -> int:
    return int(time.time() * 1000)


def create_app(config: DashboardConfig) -> Starlette:
    """The dashboard as an ASGI app; the store is migrated (acknowledgements table) here."""
    with Store(config.db_url) as store:
        store.migrate()
    templates = Jinja2Templates(env=environment(config.teams))
    feed = LiveFeed()
    link = MqttLink(config.mqtt_url, feed) if config.mqtt_url else None

    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        return templates.TemplateResponse(request, name, {"standalone": False, **context}, status_code=status_code)

    def teams_stored(store: Store) -> list[str]:
        return [team for (team,) in store.query("SELECT DISTINCT team FROM sessions ORDER BY team")]

    def board(request: Request) -> Response:
        team = request.query_params.get("team") or None
        at = now_ms()
        with Store(config.db_url) as store:
            rows = team_board(store, config.teams, at=at, team=team)
            teams = teams_stored(store)
        live_note = "Updates live from the broker." if link else f"Checks for new alerts every {config.poll_s:g} s."
        return page(request, "board.html", {
            "page": "board", "rows": rows, "team": team, "teams": teams, "as_of": at,
            "as_of_text": datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M"),
            "live_note": live_note, "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        })  # fmt: skip

    def athlete(request: Request) -> Response:
        team, name = request.path_params["team"], request.path_params["athlete"]
        at = now_ms()
        team_config = config.teams.team(team)
        with Store(config.db_url) as store:
            known = store.query("SELECT 1 FROM sessions WHERE team = ? AND athlete = ? LIMIT 1", (team, name))
            if not known:
                return page(request, "error.html", {"page": "", "heading": "No such athlete",
                            "message": f"Nothing is stored for {name} in team {team}.", "back": "/"},
                            status_code=404)  # fmt: skip
            engine = RiskEngine(store, config.teams)
            engine.refresh_features(team=team, athlete=name)
            assessment = engine.assess(team, name, at=at)
            data = load_athlete(store, team_config, name, at=at)
            entries = alert_history(store, team=team, athlete=name)
        return page(request, "athlete.html", {
            "page": "athlete", "team": team, "athlete": name, "assessment": assessment, "data": data,
            "charts": athlete_charts(data, team_config.thresholds), "entries": entries, "back": request.url.path,
        })  # fmt: skip

    def alerts(request: Request) -> Response:
        team = request.query_params.get("team") or None
        with Store(config.db_url) as store:
            entries = alert_history(store, team=team)
            teams = teams_stored(store)
        back = "/alerts" + (f"?team={team}" if team else "")
        return page(request, "alerts.html", {"page": "alerts", "entries": entries, "team": team, "teams": teams,
                                             "back": back})  # fmt: skip

    async def acknowledge(request: Request) -> Response:
        alert_id = request.path_params["alert_id"]
        form = await request.form()
        back = str(form.get("next") or "/")
        if not back.startswith("/") or back.startswith("//"):  # only ever back into this app
            back = "/"

        def store_it() -> Any:
            with Store(config.db_url) as store:
                return record_ack(store, alert_id, by=str(form.get("by") or ""), note=str(form.get("note") or ""),
                                  ts=now_ms())  # fmt: skip

        try:
            ack = await run_in_threadpool(store_it)
        except AckError as exc:
            return page(request, "error.html", {"page": "", "heading": "Not acknowledged", "message": str(exc),
                                                "back": back}, status_code=400)  # fmt: skip
        log.info("alert acknowledged", extra={"alert_id": ack.alert_id, "athlete": ack.athlete, "by": ack.by})
        if link is not None:
            try:
                await run_in_threadpool(link.publish, ack.topic, ack.payload())
            except BrokerError as exc:  # stored all the same; this dashboard's pages still see it
                log.warning("acknowledgement stored but not published", extra={"error": str(exc)})
        return RedirectResponse(back, status_code=303)

    async def events(_request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(feed.stream(), media_type="text/event-stream", headers=headers)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        feed.bind(asyncio.get_running_loop())
        if link is not None:
            await asyncio.to_thread(link.start)
            try:
                yield
            finally:
                link.stop()
            return
        poller = asyncio.create_task(poll_changes(config.db_url, feed, config.poll_s))
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    return Starlette(
        routes=[
            Route("/", board),
            Route("/athletes/{team}/{athlete}", athlete),
            Route("/alerts", alerts),
            Route("/alerts/{alert_id}/ack", acknowledge, methods=["POST"]),
            Route("/events", events),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )


def serve(config: DashboardConfig, *, host: str, port: int) -> None:
    """Run the dashboard until Ctrl-C or SIGTERM."""
    import uvicorn

    # Open event streams would hold the shutdown forever: give them a second.
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", timeout_graceful_shutdown=1)
