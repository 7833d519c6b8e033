"""Every dashboard request goes through `guarded`: who is asking, their CSRF token, the checks.

A page sets ``request.state.viewer`` (the signed-in coach, or `auth.EVERYONE` when sign-in
is off) and ``request.state.csrf`` (the token its forms carry). Without a live session a
page redirects to the sign-in form and the event stream answers 401; a POST whose CSRF
token does not match is refused with 403 before the handler sees it. Every answer says
not to be framed, cached or sniffed, and the cookies are marked Secure over HTTPS.
"""

from __future__ import annotations

import inspect
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from stridewatch.dashboard.auth import NONCE_COOKIE, SESSION_COOKIE, Gate, new_nonce

Handler = Callable[[Request], Response | Awaitable[Response]]
PageHandler = Callable[[Request], Response]  # a sync one runs on the thread pool
Endpoint = Callable[[Request], Awaitable[Response]]
Refusal = Callable[[Request, int, str, str], Response]  # request, status, heading, message

# Inline SVG charts carry style attributes; scripts come only from /static.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def guarded(gate: Gate, handler: Handler, *, refuse: Refusal, public: bool = False, stream: bool = False) -> Endpoint:
    """``handler`` behind the gate; ``public`` pages (sign-in) are open to anyone, ``stream``
    answers 401 rather than redirecting."""
    sync = not inspect.iscoroutinefunction(handler)

    async def endpoint(request: Request) -> Response:
        now = time.monotonic()
        session = gate.session(request.cookies.get(SESSION_COOKIE), now=now)
        nonce = request.cookies.get(NONCE_COOKIE) or ""
        fresh_nonce = None if nonce else new_nonce()
        secret = session.sid if session else nonce or fresh_nonce or ""
        request.state.session = session
        request.state.viewer = gate.viewer(session)
        request.state.csrf = gate.csrf_token(secret)
        if request.state.viewer is None and not public:
            answer: Response = PlainTextResponse("sign in first", status_code=401) if stream else _to_sign_in(request)
        elif request.method == "POST" and not gate.csrf_ok(secret, str((await request.form()).get("csrf") or "")):
            answer = refuse(request, 403, "Form out of date",
                            "This form was not sent from your current sign-in: reload the page and try again.")  # fmt: skip
        else:
            answer = await (run_in_threadpool(cast(PageHandler, handler), request) if sync
                            else cast(Endpoint, handler)(request))  # fmt: skip
        if fresh_nonce:
            set_cookie(request, answer, NONCE_COOKIE, fresh_nonce, max_age=None)
        answer.headers.update(SECURITY_HEADERS)
        return answer

    return endpoint


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    """HttpOnly, SameSite=Lax, Secure when the request came over HTTPS (a TLS proxy says so)."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")  # fmt: skip


def safe_next(target: Any) -> str:
    """A path inside this app to go to after a form, never another site."""
    text = str(target or "/")
    parts = urllib.parse.urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or "\\" in text or parts.scheme or parts.netloc:
        return "/"
    return text


def _to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/signin?" + urllib.parse.urlencode({"next": target}), status_code=303)
