"""Sign-in and sign-out pages: ``GET``/``POST /signin`` and ``POST /signout``.

A wrong login and a wrong password get the same words and take as long (`Gate.check`).
While the throttle holds an address or a login, attempts answer 429 with ``Retry-After``
and no password is checked, so guessing is slowed to a crawl. Passwords are never logged;
a failed sign-in is logged with the client address and the login, if it is one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from stridewatch.dashboard.access import safe_next, set_cookie
from stridewatch.dashboard.auth import SESSION_COOKIE, Gate

log = logging.getLogger("stridewatch.dashboard")
Page = Callable[..., Response]  # page(request, template, context, status_code=...)
MAX_LOGIN = 64
MAX_PASSWORD = 1024  # argon2 hashes anything; a megabyte "password" is only a way to burn CPU


def signin_handlers(gate: Gate, page: Page) -> dict[str, Callable[[Request], Any]]:
    """The handlers by name: ``form`` (GET /signin), ``sign_in`` (POST /signin), ``sign_out``."""

    def form(request: Request, *, status_code: int = 200, problem: str = "", headers: Any = None) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.state.viewer is not None and request.method == "GET":
            return RedirectResponse(target, status_code=303)  # signed in already, or sign-in is off
        answer = page(request, "signin.html", {"page": "signin", "next": target, "problem": problem},
                      status_code=status_code)  # fmt: skip
        answer.headers.update(headers or {})
        return answer

    async def sign_in(request: Request) -> Response:
        fields = await request.form()
        login = str(fields.get("login") or "")[:MAX_LOGIN]
        password = str(fields.get("password") or "")
        target = safe_next(fields.get("next"))
        client = request.client.host if request.client else "-"
        keys = (f"address:{client}", f"login:{login}")
        wait = gate.throttle.wait_s(*keys, now=time.monotonic())
        if wait > 0:
            seconds = math.ceil(wait)
            return form(request, status_code=429, headers={"Retry-After": str(seconds)},
                        problem=f"Too many wrong passwords. Wait {seconds} s, then try again.")  # fmt: skip
        account = None
        if len(password) <= MAX_PASSWORD:
            account = await run_in_threadpool(gate.check, login, password)
        if account is None:
            gate.throttle.failed(*keys, now=time.monotonic())
            # An unknown "login" may be a password typed in the wrong field: not logged.
            shown = login if login in gate.accounts else "(unknown)"
            log.warning("dashboard sign-in failed", extra={"login": shown, "client": client})
            return form(request, status_code=401, problem="Wrong login or password.")
        gate.throttle.succeeded(*keys)
        log.info("dashboard sign-in", extra={"login": login, "client": client})
        answer = RedirectResponse(target, status_code=303)
        set_cookie(request, answer, SESSION_COOKIE, gate.start(account, now=time.monotonic()),
                   max_age=int(gate.lifetime_s))  # fmt: skip
        return answer

    def sign_out(request: Request) -> Response:
        if request.state.session is not None:
            gate.end(request.state.session)
        answer = RedirectResponse("/signin", status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path="/")
        return answer

    return {"form": form, "sign_in": sign_in, "sign_out": sign_out}
