"""The Kafka client's retries pass one line per kind per window, with the count held back;
everything else passes untouched (streams/log_flood.py)."""

from __future__ import annotations

import logging

from streams.log_flood import KafkaClientFlood


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_retry_passes_once_per_window_and_the_next_says_how_many_were_held_back() -> None:
    clock = Clock()
    flood = KafkaClientFlood(window_s=5, clock=clock)
    passed = []
    for tick in range(100):  # 10 s of a retry every 0.1 s
        clock.now = tick / 10
        line = record("aiokafka.conn", "Unable connect to node with id %s: %s", 1, "refused 100%")
        if flood.filter(line):
            passed.append(line.getMessage())
    assert passed == [
        "Unable connect to node with id 1: refused 100%",
        "Unable connect to node with id 1: refused 100% [49 more like this in the last 5 s held back]",
    ]
    assert (flood.problems, flood.held_back) == (100, 98)


def test_during_a_declared_outage_every_kafka_client_line_is_held_back_and_counted() -> None:
    outage = [False]
    flood = KafkaClientFlood(window_s=5, outage=lambda: outage[0], clock=Clock())
    outage[0] = True
    assert not flood.filter(record("aiokafka.consumer.fetcher", "Failed fetch messages from %s", 1))
    assert not flood.filter(record("aiokafka.client", "Unable to update metadata from %s", [1]))
    assert flood.problems == 2


def test_other_loggers_are_never_held_back() -> None:
    flood = KafkaClientFlood(window_s=5, outage=lambda: True, clock=Clock())
    assert all(flood.filter(record("streams.app", "dead-lettered: %s", n)) for n in range(50))
    assert flood.problems == 0
