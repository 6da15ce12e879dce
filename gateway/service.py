"""`crsmon ingest`: the MLLP and HTTP servers around one Kafka producer; stop on a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from gateway.fhir_http import build_app
from gateway.intake import Intake
from gateway.mllp import MllpServer
from gateway.settings import IngestSettings
from kafka_client.security import KafkaSecurityError, kafka_client_options_from_env

log = logging.getLogger("crsmon.ingest")


class IngestService:
    """Both listeners and the intake they share; `start` returns the ports actually bound."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.intake = Intake(settings.broker, settings.topics, settings.send_timeout_s, kafka_client_options_from_env())
        self.mllp = MllpServer(self.intake, settings.zone(), settings.max_message_bytes)
        self._runner = web.AppRunner(
            build_app(self.intake, settings.max_message_bytes),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=1.0,
        )
        self.mllp_port = self.http_port = 0

    async def start(self) -> tuple[int, int]:
        settings = self.settings
        try:
            self.mllp_port = await self.mllp.start(settings.host, settings.mllp_port)
            await self._runner.setup()
            site = web.TCPSite(self._runner, settings.host, settings.http_port)
            await site.start()
        except OSError as error:
            await self.stop()
            raise SystemExit(
                f"crsmon ingest: cannot listen on {settings.host} ({error.strerror}); "
                "choose other ports (--mllp-port, --http-port) or stop what uses them"
            ) from None
        self.http_port = self._runner.addresses[0][1]
        return self.mllp_port, self.http_port

    async def stop(self) -> None:
        await self.mllp.stop()
        await self._runner.cleanup()
        await self.intake.close()


async def serve(settings: IngestSettings) -> None:
    """Run until SIGINT or SIGTERM."""
    service = IngestService(settings)
    mllp_port, http_port = await service.start()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"crsmon ingest: HL7 v2 over MLLP on {host}:{mllp_port}, FHIR on "
        f"http://{host}:{http_port}/fhir, metrics on http://{host}:{http_port}/metrics",
        flush=True,
    )
    log.info(
        "publishing to %s (dead letters to %s) on %s; HL7 times without an offset are in %s",
        settings.topics.vitals,
        settings.topics.dead_letters,
        settings.broker,
        settings.timezone,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await service.stop()


def run_ingest(settings: IngestSettings) -> int:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except KafkaSecurityError as error:
        print(f"crsmon ingest: {error}", file=sys.stderr)
        return 2
    return 0
