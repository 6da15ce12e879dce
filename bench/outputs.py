"""Reading the worker's output topics from "now on", as a ward dashboard or a pager would."""

from __future__ import annotations

from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.progress import topic_partitions


def parse_moment(text: str) -> datetime:
    """An RFC 3339 time from a message, comparable whatever its precision or offset style."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def reading_from_now(bootstrap: str, topics: list[str]) -> AIOKafkaConsumer:
    """A started consumer, without a group, positioned at the current end of every partition
    before this returns, so that nothing produced afterwards can be missed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    partitions = [TopicPartition(tp.topic, tp.partition) for tp in topic_partitions(bootstrap, topics)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer
