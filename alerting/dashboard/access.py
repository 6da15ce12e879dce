"""Who may see the ward: whoever holds the dashboard's token.

A browser brings the token once, in the link `crsmon dashboard` prints (`/?token=…`); the
server answers with an HttpOnly cookie and a redirect to the same page without the token, so
the token leaves the address bar and the history, and the page's own requests (the event
stream, acknowledgements) carry the cookie. Programs may send `Authorization: Bearer <token>`.

The cookie holds a keyed hash of the token rather than the token itself, so a cookie lifted
from a browser cannot be turned into a link or a bearer token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Paths that carry no patient data and must work without a token: liveness probes and
#: Prometheus, which scrape every component the same way.
OPEN_PATHS = frozenset({"/healthz", "/metrics"})

MISSING = (
    "This ward dashboard needs its access token. Open the link that `crsmon dashboard` printed "
    "when it started (it ends in ?token=…), or ask whoever runs the dashboard for it."
)
WRONG = (
    "The access token you sent is not this dashboard's token (it may have been changed or the "
    "dashboard restarted with a new one). Open the link that `crsmon dashboard` printed when it "
    "started, or ask whoever runs the dashboard for the current link."
)


def make_token() -> str:
    """A fresh token for a dashboard started without one configured."""
    return secrets.token_urlsafe(24)


def cookie_name(port: int) -> str:
    """Cookies ignore ports: two dashboards on one host must not overwrite each other's."""
    return f"crsmon_dashboard_{port}"


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"crsmon dashboard cookie", hashlib.sha256).hexdigest()


def _bearer(request: web.Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _page_without_token(request: web.Request) -> str:
    query = request.url.query.copy()
    query.popall("token", None)
    return str(request.rel_url.with_query(query))


def _refuse(request: web.Request, message: str) -> web.Response:
    if "text/html" in request.headers.get("Accept", ""):
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Access token needed</title>"
            "<body style='font:18px system-ui;max-width:40em;margin:4em auto'>"
            f"<h1>Access token needed</h1><p>{message}</p></body></html>"
        )
        return web.Response(status=401, text=body, content_type="text/html")
    return web.json_response({"error": "unauthorized", "message": message}, status=401)


def token_guard(token: str, port: int) -> Callable:
    """aiohttp middleware: every path but OPEN_PATHS needs the token, else 401 and why."""
    name = cookie_name(port)
    expected_cookie = cookie_value(token)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        offered = request.query.get("token")
        if offered is not None:
            if not hmac.compare_digest(offered.encode(), token.encode()):
                return _refuse(request, WRONG)
            if request.method == "GET" and request.path == "/":
                response = web.HTTPSeeOther(_page_without_token(request))
                response.set_cookie(name, expected_cookie, httponly=True, samesite="Strict", path="/")
                return response
            return await handler(request)
        bearer = _bearer(request)
        if bearer is not None:
            if not hmac.compare_digest(bearer.encode(), token.encode()):
                return _refuse(request, WRONG)
            return await handler(request)
        cookie = request.cookies.get(name)
        if cookie is not None and hmac.compare_digest(cookie.encode(), expected_cookie.encode()):
            return await handler(request)
        return _refuse(request, WRONG if cookie is not None else MISSING)

    return guard
