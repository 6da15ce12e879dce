"""`crsmon dashboard`: start the follower, the broadcaster and the web server; stop them on a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from datetime import timedelta

from aiohttp import web

from alerting.dashboard.access import make_token
from alerting.dashboard.acknowledge import Acknowledger
from alerting.dashboard.assessment import Charter
from alerting.dashboard.broadcast import Broadcaster
from alerting.dashboard.follower import TopicFollower
from alerting.dashboard.server import build_app
from alerting.dashboard.settings import DashboardSettings
from alerting.dashboard.ward_view import WardView
from kafka_client.security import KafkaSecurityError, kafka_client_options_from_env

log = logging.getLogger("crsmon.dashboard")


def _bind(host: str, port: int) -> socket.socket:
    """Bind before building the app, so that port 0 (any free port) is known to the cookie name
    and to the URL we print."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SystemExit(
            f"crsmon dashboard: cannot listen on {host}:{port} ({error.strerror}); "
            "choose another --port or stop what is using it"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


async def serve(settings: DashboardSettings, kafka_options: dict) -> None:
    """Run until SIGINT or SIGTERM. `kafka_options` are the TLS/SASL keyword arguments of both
    Kafka clients (CRSMON_KAFKA_*)."""
    token = settings.token or make_token()
    sock = _bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    view = WardView(timedelta(hours=settings.history_hours), timedelta(hours=settings.course_hours))
    broadcaster = Broadcaster(view, settings.flush_interval_s)
    follower = TopicFollower(settings, view, on_state=broadcaster.feed_changed, kafka_options=kafka_options)
    broadcaster.feed = follower.state
    acknowledger = Acknowledger(settings.broker, settings.topics.alert_acks, view, kafka_options)
    charter = Charter(settings.broker, settings.topics.clinical_events, view, kafka_options)
    runner = web.AppRunner(
        build_app(broadcaster, acknowledger, token, port, charter=charter),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=1.0,
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    tasks = [
        asyncio.create_task(follower.run(), name="follower"),
        asyncio.create_task(broadcaster.run(), name="broadcaster"),
    ]
    url = _url(settings.host, port)
    if settings.token:
        print(
            f"crsmon dashboard: the ward is at {url} (open it with ?token= and the token in CRSMON_DASHBOARD_TOKEN)",
            flush=True,
        )
    else:
        print(f"crsmon dashboard: the ward is at {url}?token={token}", flush=True)
    log.info(
        "following %s, %s and %s on %s",
        settings.topics.patient_status,
        settings.topics.alerts,
        settings.topics.alert_acks,
        settings.broker,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        finished, _ = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        for task in finished:
            if task in tasks and (error := task.exception()) is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for browser in list(broadcaster.browsers):
            browser.queue.put_nowait(None)  # end each event stream so the runner can stop
        await acknowledger.close()
        await charter.close()
        await runner.cleanup()
        print("crsmon dashboard: stopped", flush=True)


def run_dashboard(settings: DashboardSettings) -> int:
    """The exit status: 0 after a signal, 2 when the Kafka security settings are wrong."""
    logging.basicConfig(
        level=settings.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # its retries are reported by ours
    try:
        kafka_options = kafka_client_options_from_env()
    except KafkaSecurityError as error:
        print(f"crsmon dashboard: {error}", file=sys.stderr)
        return 2
    asyncio.run(serve(settings, kafka_options))
    return 0
