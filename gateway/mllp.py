"""HL7 v2 over MLLP (the Minimal Lower Layer Protocol of HL7 v2 appendix C) on TCP.

Each message comes framed as <VT> message <FS><CR> and is answered, on the same connection,
with an ACK in the same framing before the next message is read: a gateway sends one message
at a time and resends it when no ACK comes.

The framing is read here with asyncio's readuntil rather than python-hl7's MLLP reader,
because that reader discards a frame it cannot accept, and a broken frame must still reach
dead-letters with its bytes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import cast

from gateway import acknowledge, decode_oru, metrics
from gateway.intake import Intake
from monitor.wire import InvalidMessage

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
PROTOCOL = "hl7v2"

log = logging.getLogger("crsmon.ingest.mllp")


class FramingError(Exception):
    """Bytes that arrived in a broken frame; `data` is what was received of it."""

    def __init__(self, reason: str, data: bytes, kind: str, recoverable: bool) -> None:
        super().__init__(reason)
        self.rejection = InvalidMessage(reason, kind)
        self.data = data
        self.recoverable = recoverable  # False: the stream cannot be trusted any more; close it


async def read_frame(reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The next message, without its framing; None when the sender closed between messages.

    `limit` must be the reader's own limit (asyncio.start_server's `limit`), named here so
    the reason can say it.
    """
    try:
        block = await reader.readuntil(END_BLOCK)
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise FramingError(
            "the connection closed before the end of the frame (<FS><CR>)", error.partial, "framing", recoverable=False
        ) from None
    except asyncio.LimitOverrunError:
        raise FramingError(
            f"the frame is larger than the {limit} bytes accepted (CRSMON_INGEST_MAX_MESSAGE_BYTES)",
            b"",
            "too_large",
            recoverable=False,
        ) from None
    block = block[: -len(END_BLOCK)]
    start = block.find(START_BLOCK)
    if start < 0 or block[:start].strip():
        raise FramingError(
            "the frame does not begin with <VT> (0x0B): MLLP frames are <VT> message <FS><CR>",
            block,
            "framing",
            recoverable=True,
        )
    return block[start + 1 :]


def framed(message: bytes) -> bytes:
    return START_BLOCK + message + END_BLOCK


class MllpServer:
    """Accepts gateway connections and answers every message with an ACK."""

    def __init__(self, intake: Intake, zone: tzinfo, max_message_bytes: int) -> None:
        self.intake = intake
        self.zone = zone
        self.max_message_bytes = max_message_bytes
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; return the port (useful when `port` is 0)."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=self.max_message_bytes)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

    def _decode(self, raw: bytes):
        return decode_oru(raw, self.zone)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio.start_server runs each connection's handler as a task of its own.
        task = cast(asyncio.Task, asyncio.current_task())
        self._connections.add(task)
        metrics.MLLP_CONNECTIONS.inc()
        peer = writer.get_extra_info("peername")
        log.info("gateway connected from %s", peer)
        try:
            while True:
                try:
                    raw = await read_frame(reader, self.max_message_bytes)
                except FramingError as error:
                    outcome = await self.intake.reject(PROTOCOL, error.data, error.rejection)
                    writer.write(framed(acknowledge(error.data, outcome.rejection)))
                    await writer.drain()
                    if not error.recoverable:
                        break
                    continue
                if raw is None:
                    break
                outcome = await self.intake.take(PROTOCOL, raw, self._decode)
                warnings = outcome.decoded.warnings() if outcome.decoded else ()
                writer.write(framed(acknowledge(raw, outcome.rejection, warnings)))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            metrics.MLLP_CONNECTIONS.dec()
            self._connections.discard(task)
            log.info("gateway at %s disconnected", peer)
            writer.close()
