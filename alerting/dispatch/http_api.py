"""The dispatcher's HTTP side: acknowledgements from people, metrics for Prometheus.

`POST /acks` takes `{"episode_id": ..., "by": ...}` (optionally `patient_id`, `source`, `ts`)
with `Authorization: Bearer <token>` and publishes the contract's Acknowledgement to
`alert-acks`, where the dispatcher, the worker and the dashboard all read it. The endpoint
exists only when a token is configured: an unauthenticated way to stop escalation is worse
than none. It binds to 127.0.0.1 unless configured otherwise.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Awaitable, Callable

import orjson
from aiohttp import web
from pydantic import ValidationError

from monitor.wire import Acknowledgement, describe_validation_error, encode

log = logging.getLogger("crsmon.dispatch")

Publish = Callable[[Acknowledgement], Awaitable[None]]
PatientOf = Callable[[str], "str | None"]


def build_app(
    token: str | None,
    publish: Publish,
    patient_of: PatientOf,
    exposition: Callable[[], bytes],
    health: Callable[[], dict],
) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)

    async def acks(request: web.Request) -> web.Response:
        if token is None:
            return _problem(404, "the ack endpoint is off: configure http.token or http.token_env")
        offered = request.headers.get("Authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return _problem(401, "missing or wrong token: send Authorization: Bearer <token>")
        try:
            document = orjson.loads(await request.read())
        except orjson.JSONDecodeError as error:
            return _problem(400, f"the body is not JSON: {error}")
        if not isinstance(document, dict) or not document.get("episode_id"):
            return _problem(400, "the body must be a JSON object with episode_id and by")
        document.setdefault("patient_id", patient_of(document["episode_id"]))
        if document["patient_id"] is None:
            return _problem(
                404, f"episode {document['episode_id']!r} is unknown to this dispatcher; send its patient_id too"
            )
        document.setdefault("ts", datetime.now(timezone.utc).isoformat())
        document.setdefault("source", "pager-api")
        try:
            ack = Acknowledgement.model_validate(document)
        except ValidationError as error:
            return _problem(400, describe_validation_error(error))
        await publish(ack)
        log.info("acknowledgement of an episode by %s published", ack.by)
        return web.Response(status=202, body=encode(ack), content_type="application/json")

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=exposition(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response(health())

    app.router.add_post("/acks", acks)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=status)


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (to stop it) and the port actually bound."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]  # aiohttp's public list of bound (host, port, …) addresses
    return runner, bound
