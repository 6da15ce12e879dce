"""FHIR R4 over HTTP: POST /fhir/Observation (one Observation) and POST /fhir (a Bundle), JSON.

Answers as a FHIR server would: 201 (one Observation) or 200 (a Bundle) with an
OperationOutcome that counts what was published and warns of what was skipped; 400/413/415/422
with an OperationOutcome saying what is wrong; 503 when Kafka could not take the result.
/metrics (Prometheus) and /healthz are served on the same port.
"""

from __future__ import annotations

from aiohttp import web

from gateway import decode_fhir, http_status_for, metrics, rejection_outcome, success_outcome
from gateway.intake import Intake
from monitor.wire import InvalidMessage

PROTOCOL = "fhir"
FHIR_JSON = "application/fhir+json"
_JSON_TYPES = {FHIR_JSON, "application/json", "application/json+fhir"}
_RETRY_AFTER_S = "5"


def build_app(intake: Intake, max_message_bytes: int) -> web.Application:
    """The HTTP application: FHIR endpoints, metrics and health."""
    app = web.Application(client_max_size=max_message_bytes)
    app.router.add_post("/fhir/Observation", _endpoint(intake, ("Observation",), 201, max_message_bytes))
    app.router.add_post("/fhir", _endpoint(intake, ("Bundle",), 200, max_message_bytes))
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _health)
    return app


def _endpoint(intake: Intake, accept: tuple[str, ...], created: int, max_message_bytes: int):
    where_else = (
        "POST a Bundle to /fhir" if accept == ("Observation",) else "POST a single Observation to /fhir/Observation"
    )

    def decode(raw: bytes):
        try:
            return decode_fhir(raw, accept)
        except InvalidMessage as error:
            if error.kind == "not_fhir" and error.reason.startswith("resourceType"):
                raise InvalidMessage(f"{error.reason}; {where_else}", error.kind) from None
            raise

    async def handle(request: web.Request) -> web.Response:
        if request.content_type not in _JSON_TYPES:
            rejection = InvalidMessage(
                f"Content-Type {request.content_type or '(none)'} is not accepted: send FHIR JSON "
                f"with Content-Type: {FHIR_JSON}",
                "unsupported_media_type",
            )
            return _answer((await intake.reject(PROTOCOL, b"", rejection)).refused)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            rejection = InvalidMessage(
                f"the request body is larger than the {max_message_bytes} bytes "
                "accepted (CRSMON_INGEST_MAX_MESSAGE_BYTES): split the Bundle",
                "too_large",
            )
            return _answer((await intake.reject(PROTOCOL, b"", rejection)).refused)
        outcome = await intake.take(PROTOCOL, raw, decode)
        if outcome.decoded is not None:
            return web.Response(status=created, body=success_outcome(outcome.decoded), content_type=FHIR_JSON)
        return _answer(outcome.refused)

    return handle


def _answer(rejection: InvalidMessage) -> web.Response:
    headers = {"Retry-After": _RETRY_AFTER_S} if rejection.kind == "publish_failed" else None
    return web.Response(
        status=http_status_for(rejection.kind),
        body=rejection_outcome(rejection),
        content_type=FHIR_JSON,
        headers=headers,
    )


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
