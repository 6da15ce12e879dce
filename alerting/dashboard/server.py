"""The dashboard's HTTP side: the page, its event stream, acknowledgements, bedside assessments,
health and metrics.

Server-Sent Events rather than WebSockets: the page only listens, the browser's EventSource
reconnects by itself after a network blip or a server restart, the stream is plain HTTP that
carries the access cookie like any request, and the two things the page says back (an
acknowledgement, a bedside ICE assessment) are ordinary POSTs. aiohttp serves it because it is already installed
with Faust: no new dependency.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from alerting.dashboard import metrics
from alerting.dashboard.access import token_guard
from alerting.dashboard.acknowledge import AcknowledgementRefused, Acknowledger
from alerting.dashboard.assessment import AssessmentRefused, Charter
from alerting.dashboard.broadcast import Broadcaster
from monitor.catalogue import CATALOGUE, Catalogue

STATIC = Path(__file__).parent / "static"

#: The page loads nothing from elsewhere (the ward's network is closed, and a dashboard of
#: patient data should not be able to send it anywhere); the token must not leak in a Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

BROADCASTER = web.AppKey("broadcaster", Broadcaster)
ACKNOWLEDGER = web.AppKey("acknowledger", Acknowledger)
CHARTER = web.AppKey("charter", Charter)
#: The catalogue's JSON, made once: the page reads every label, unit and precision from it.
OBSERVATIONS = web.AppKey("observations", bytes)


@web.middleware
async def _security_headers(request: web.Request, handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _events(request: web.Request) -> web.StreamResponse:
    broadcaster = request.app[BROADCASTER]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # a reverse proxy must not hold the stream back
        }
    )
    await response.prepare(request)
    browser = broadcaster.connect()
    try:
        while True:
            frame = await browser.queue.get()
            if frame is None:
                break
            await response.write(frame)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        broadcaster.disconnect(browser)
    return response


async def _json_object(request: web.Request, fields: str, rejected: Any) -> dict | web.Response:
    """The request's JSON object, or the answer that says how to send one (`fields` as the
    message names them; `rejected` counts a body that is not an object). Only JSON is taken: a
    JSON body forces a CORS preflight, which no other site's page can pass."""
    if request.content_type != "application/json":
        return web.json_response(
            {"error": "bad_request", "message": f"send Content-Type: application/json with {{{fields}}}"}, status=415
        )
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        rejected.inc()
        return web.json_response(
            {"error": "bad_request", "message": f"the body must be a JSON object {{{fields}}}"}, status=400
        )
    return body


async def _acknowledge(request: web.Request) -> web.Response:
    body = await _json_object(request, "episode_id, by", metrics.ACKNOWLEDGEMENTS.labels("rejected"))
    if isinstance(body, web.Response):
        return body
    try:
        ack = await request.app[ACKNOWLEDGER].acknowledge(body.get("episode_id"), body.get("by"))
    except AcknowledgementRefused as refused:
        metrics.ACKNOWLEDGEMENTS.labels("failed" if refused.status >= 500 else "rejected").inc()
        return web.json_response({"error": "not_acknowledged", "message": refused.message}, status=refused.status)
    metrics.ACKNOWLEDGEMENTS.labels("published").inc()
    return web.json_response(ack.model_dump(mode="json"), status=202)


async def _assess(request: web.Request) -> web.Response:
    """A bedside ICE assessment from the patient view: 202 with the `neuro` event once Kafka has
    it, else 4xx/5xx with a message that says what to change."""
    body = await _json_object(request, "patient_id, by, ice_items, …", metrics.ASSESSMENTS.labels("rejected"))
    if isinstance(body, web.Response):
        return body
    charter = request.app.get(CHARTER)
    if charter is None:
        return web.json_response(
            {"error": "not_charted", "message": "this dashboard does not chart assessments"}, status=503
        )
    try:
        event = await charter.chart(body)
    except AssessmentRefused as refused:
        metrics.ASSESSMENTS.labels("failed" if refused.status >= 500 else "rejected").inc()
        return web.json_response({"error": "not_charted", "message": refused.message}, status=refused.status)
    metrics.ASSESSMENTS.labels("published").inc()
    return web.json_response(event.model_dump(mode="json", exclude_none=True), status=202)


async def _course(request: web.Request) -> web.Response:
    """One patient's course for the patient view: `?hours=24` (the default) or `?hours=all`, the
    whole risk period from the latest therapy on, as far as the dashboard keeps it."""
    asked = request.query.get("hours", "24")
    if asked == "all":
        hours = None
    else:
        try:
            hours = float(asked)
        except ValueError:
            hours = -1.0
        if not 0 < hours <= 24 * 366:
            return web.json_response(
                {"error": "bad_request", "message": "hours must be a number of hours (e.g. 24) or all"}, status=400
            )
    course = request.app[BROADCASTER].view.courses.course(request.match_info["patient_id"], hours)
    if course is None:
        return web.json_response(
            {
                "error": "not_found",
                "message": "this dashboard has no course for that patient (not monitored "
                "in its window, or discharged long ago)",
            },
            status=404,
        )
    return web.Response(body=orjson.dumps(course), content_type="application/json")


async def _observations(request: web.Request) -> web.Response:
    """What crsmon observes, with the words, units and precision the page shows them with
    (monitor/catalogue.py): the page reads them here rather than restating them in JavaScript."""
    return web.Response(body=request.app[OBSERVATIONS], content_type="application/json")


async def _session(request: web.Request) -> web.Response:
    """204 when the request carries the token: how a page tells a refusal from an outage."""
    return web.Response(status=204)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", **request.app[BROADCASTER].feed.describe()})


async def _metrics(request: web.Request) -> web.Response:
    courses = request.app[BROADCASTER].view.courses
    metrics.COURSES.set(len(courses.patients))
    metrics.COURSE_BYTES.set(courses.nbytes)
    return web.Response(
        body=metrics.exposition(), content_type="text/plain", headers={"X-Content-Type-Options": "nosniff"}
    )


def build_app(
    broadcaster: Broadcaster,
    acknowledger: Acknowledger,
    token: str,
    port: int,
    catalogue: Catalogue = CATALOGUE,
    charter: Charter | None = None,
) -> web.Application:
    """The web application; `port` only names the access cookie. Without a `charter` the page's
    bedside assessments are refused (503): a dashboard built only to look."""
    app = web.Application(middlewares=[_security_headers, token_guard(token, port)])
    app[BROADCASTER] = broadcaster
    app[ACKNOWLEDGER] = acknowledger
    if charter is not None:
        app[CHARTER] = charter
    app[OBSERVATIONS] = orjson.dumps(catalogue.to_json())
    app.router.add_get("/", _page)
    app.router.add_get("/events", _events)
    app.router.add_post("/api/acknowledgements", _acknowledge)
    app.router.add_post("/api/assessments", _assess)
    app.router.add_get("/api/patients/{patient_id}/course", _course)
    app.router.add_get("/api/observations", _observations)
    app.router.add_get("/api/session", _session)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", _metrics)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
