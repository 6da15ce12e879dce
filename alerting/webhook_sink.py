"""A local webhook receiver that prints every page it gets: the other end of `make demo`, and a
way to see what a real pager service would be sent.

Given one or more secrets it checks each request's Standard Webhooks signature and answers
401 to a request that fails, as a real receiver should.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timezone
from typing import TextIO

import orjson
from aiohttp import web

from alerting.dispatch.config import decode_secret
from alerting.dispatch.signing import verify


def build_sink(keys: list[bytes], out: TextIO) -> web.Application:
    seen: set[tuple[str, str]] = set()  # (path, webhook-id): each path stands for one receiver

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        message_id = request.headers.get("webhook-id", "-")
        if keys:
            problem = verify(keys, request.headers, body)
            check = "signature ok" if problem is None else f"SIGNATURE REJECTED ({problem})"
        else:
            problem, check = None, "unsigned check skipped"
        repeat = " (repeat of an id already received here)" if (request.path, message_id) in seen else ""
        seen.add((request.path, message_id))
        try:
            shown = orjson.dumps(orjson.loads(body)).decode()
        except orjson.JSONDecodeError:
            shown = body.decode("utf-8", errors="backslashreplace")
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        print(
            f"{stamp} {request.method} {request.path} webhook-id={message_id} {check}{repeat}\n  {shown}",
            file=out,
            flush=True,
        )
        return web.Response(status=401 if problem else 200, text="bad signature" if problem else "ok")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("POST", "/{tail:.*}", receive)
    return app


def run_sink(host: str, port: int, secrets: list[str]) -> int:
    """Serve until SIGINT or SIGTERM."""
    try:
        keys = [decode_secret(secret) for secret in secrets]
    except ValueError as error:
        print(f"crsmon webhook-sink: {error}", file=sys.stderr)
        return 2

    async def main() -> None:
        runner = web.AppRunner(build_sink(keys, sys.stdout), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        print(
            f"webhook sink listening on http://{host}:{port}/ "
            f"({'verifying signatures' if keys else 'not verifying signatures'})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())
    return 0
