"""How far a consumer has got, and how fast it went while it was running at full speed.

The Faust runs (the do-nothing floor and `crsmon worker`) are measured by one yardstick: the
counter `crsmon_messages_consumed_total` on their /metrics page, sampled five times a second.
Not committed offsets, because Faust commits on a 2.8 s timer (`broker_commit_interval`):
a 20-second run measured by commits is off by up to 15 % at each end, while the counter moves
with every message. Committed offsets are still read after each run, to show that what was
counted was also committed (processed for good, not merely fetched).

The rate is the slope between the moments 5 % and 95 % of the messages had been counted, so
start-up (joining the group, table recovery) and the last partition's tail are not in it.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Iterable

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

CONSUMED = "crsmon_messages_consumed"  # the family name of crsmon_messages_consumed_total


class BenchmarkError(RuntimeError):
    """A run could not be measured; the message says what was seen."""


def metric_total(port: int, family: str = CONSUMED, timeout: float = 2.0) -> float | None:
    """The sum over all labels of one metric on 127.0.0.1:port/metrics; None if not serving."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    total = 0.0
    for metric in text_string_to_metric_families(text):
        if metric.name == family:
            total += sum(sample.value for sample in metric.samples if not sample.name.endswith("_created"))
    return total


@dataclass
class Rate:
    messages: float
    seconds: float
    complete: bool  # every message was processed (not stopped by the time limit)
    cpu_seconds: float | None = None  # CPU time the measured processes used meanwhile

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_message(self) -> float | None:
        """Seconds of CPU per message: what a message costs, however busy the machine was."""
        return self.cpu_seconds / self.messages if self.cpu_seconds is not None and self.messages else None


@dataclass
class Throughput:
    """One run of one or more processes in a consumer group over the pre-loaded input."""

    rate: Rate
    consumed_each: list[float]  # messages each process consumed
    kernel_share: float | None = None  # of the processes' CPU time, the part in the kernel
    written: dict[str, int] = field(default_factory=dict)  # messages written, by kind of topic

    @property
    def consumed(self) -> float:
        return sum(self.consumed_each)


def _interpolate(x: float, points: list[tuple[float, float]]) -> float | None:
    """y at x on the polyline through `points` (x ascending); None beyond the last point."""
    previous = None
    for px, py in points:
        if px >= x:
            if previous is None or px == previous[0]:
                return py
            share = (x - previous[0]) / (px - previous[0])
            return previous[1] + share * (py - previous[1])
        previous = (px, py)
    return None


@dataclass
class Progress:
    """Samples of (monotonic time, messages done, CPU seconds used) over `total` messages."""

    total: int
    samples: list[tuple[float, float, float | None]] = field(default_factory=list)

    def add(self, count: float, at: float | None = None, cpu: float | None = None) -> None:
        self.samples.append((time.monotonic() if at is None else at, count, cpu))

    @property
    def done(self) -> float:
        return self.samples[-1][1] if self.samples else 0.0

    def time_of(self, count: float) -> float | None:
        """When `count` messages were done, interpolated between samples; None if not yet."""
        return _interpolate(count, [(value, at) for at, value, _ in self.samples])

    def cpu_at(self, at: float) -> float | None:
        points = [(t, cpu) for t, _, cpu in self.samples if cpu is not None]
        return _interpolate(at, points) if points else None

    def steady_rate(self, low: float = 0.05, high: float = 0.95) -> Rate:
        """Messages per second between `low` and `high` of the total (or the last sample)."""
        start = self.time_of(low * self.total)
        if start is None:
            raise BenchmarkError(f"fewer than {low:.0%} of {self.total} messages were processed")
        end = self.time_of(high * self.total)
        if end is None:
            end, reached, _ = self.samples[-1]
        else:
            reached = high * self.total
        cpu_start, cpu_end = self.cpu_at(start), self.cpu_at(end)
        cpu = cpu_end - cpu_start if cpu_start is not None and cpu_end is not None else None
        return Rate(reached - low * self.total, end - start, self.done >= self.total, cpu)


def follow(
    read: Callable[[], float | None],
    total: int,
    *,
    max_seconds: float,
    start_timeout: float = 120.0,
    stall_seconds: float = 60.0,
    poll: float = 0.2,
    alive: Callable[[], bool] = lambda: True,
    cpu: Callable[[], float | None] = lambda: None,
) -> Progress:
    """Sample `read()` (and `cpu()`) until `total` is reached, or `max_seconds` after 5 %.

    Fails fast when nothing starts within `start_timeout`, when counting stalls for
    `stall_seconds`, or when `alive()` says the process being measured has died.
    """
    progress = Progress(total)
    began = time.monotonic()
    last_change = (began, -1.0)
    while True:
        value = read()
        now = time.monotonic()
        progress.add(value or 0.0, now, cpu())
        if progress.done >= total:
            return progress
        if progress.done != last_change[1]:
            last_change = (now, progress.done)
        started = progress.time_of(0.05 * total)
        if started is not None and now - started > max_seconds:
            return progress
        if started is None and now - began > start_timeout:
            raise BenchmarkError(f"not 5 % of {total} messages within {start_timeout:.0f} s (at {progress.done:.0f})")
        if now - last_change[0] > stall_seconds:
            raise BenchmarkError(f"stalled at {progress.done:.0f} of {total} messages for {stall_seconds:.0f} s")
        if not alive():
            raise BenchmarkError(f"the process died at {progress.done:.0f} of {total} messages")
        time.sleep(poll)


def topic_partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topics: Iterable[str]) -> int:
    """The number of messages in these topics (the sum of their end offsets)."""
    partitions = topic_partitions(bootstrap, topics)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return sum(consumer.end_offsets(partitions).values()) if partitions else 0
    finally:
        consumer.close()


def committed(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """The consumer group's committed offsets, summed over these topics' partitions."""
    wanted = set(topics)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic in wanted and meta.offset > 0)


def wait_for_commits(bootstrap: str, group: str, topics: list[str], total: int, timeout: float = 30.0) -> int:
    """Committed offsets once they reach `total`, or whatever they are after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        done = committed(bootstrap, group, topics)
        if done >= total or time.monotonic() > deadline:
            return done
        time.sleep(0.5)
