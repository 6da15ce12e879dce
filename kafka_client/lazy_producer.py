"""A Kafka producer started on first use, for services that must listen while Kafka is down.

Ingest and the dashboard accept connections before Kafka answers: they start their producer
when the first message needs it and answer "try again" until it starts, rather than refusing
connections or crashing at boot.
"""

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer


class LazyProducer:
    def __init__(self, broker: str, client_id: str, start_timeout_s: float, **options: Any) -> None:
        self.broker = broker
        self.client_id = client_id
        self.start_timeout_s = start_timeout_s
        self.options = options
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def ready(self) -> AIOKafkaProducer:
        """The started producer; raises (TimeoutError, KafkaError) while Kafka cannot be reached."""
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.broker, acks="all", linger_ms=0, client_id=self.client_id, **self.options
                )
                try:
                    await asyncio.wait_for(producer.start(), self.start_timeout_s)
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
