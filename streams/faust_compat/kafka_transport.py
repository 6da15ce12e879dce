"""Faust's Kafka transport with a short broker-side fetch wait, because the long one it
hard-codes stalls a busy partition behind idle ones, and a fetch that never returns records
Faust would drop.

Faust (faust-streaming 0.15) creates the worker's aiokafka consumer with
`fetch_max_wait_ms=1500` and offers no setting for it. aiokafka keeps at most one fetch in
flight per broker, and a fetch leaves out the partitions whose records the application has
not taken yet. So when the worker takes a little longer than aiokafka's prefetch backoff
(0.1 s) to take a batch of vitals, the next fetch asks only for the idle partitions
(clinical events, acknowledgements): the broker holds it for the whole wait, since nothing
arrives there, and the vitals produced meanwhile wait behind it. The batch that then arrives
is 1.5 s of data, which takes longer than 0.1 s to take, so the stall repeats: produce ->
alert was 1.2-3 s at 800-2500 sets/s, a rate the worker carried on a third of a core
(bench/worker.py, latency run), or a few ms when nothing had ever started the cycle.

A wait of W ms bounds each such stall, and the batch after it takes u * W to take (u: the
share of the worker's time the stream needs), so with W no longer than the 0.1 s backoff a
stall cannot repeat itself below saturation. An idle worker asks the broker `1000 / W` times
a second: 50 ms cost 1.5 % of a core (Faust's 1500 ms: 0.4 %, 100 ms: 0.9 %, 20 ms: 3.3 %).
"""

from __future__ import annotations

from typing import Any, cast

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams.broker_contact import BrokerContact
from streams.faust_compat.batch_lane import BatchLane, BatchLaneConsumer
from streams.faust_compat.internals import missing_on

# Class-level names (`_fetch_records`, whose override would silently stop applying) are
# checked when the package is imported; those set on instances, when each is created.


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        wait_ms = cast(Transport, self.transport).fetch_max_wait_ms  # the one below creates us
        # The consumer hands this to its Fetcher in start(); fail loudly if aiokafka renames it.
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError(
                "aiokafka.AIOKafkaConsumer has no _fetch_max_wait_ms; "
                "streams/faust_compat/ needs updating for this aiokafka"
            )
        consumer._fetch_max_wait_ms = wait_ms  # noqa: SLF001
        contact = cast(Transport, self.transport).broker_contact
        if contact is not None:
            note_answers(consumer, contact)
        return consumer

    async def _fetch_records(
        self,
        consumer: aiokafka.AIOKafkaConsumer,
        active_partitions: Any,
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> Any:
        """Records of the partitions Faust will take, and no others (streams/lost_records.py).

        Faust hands aiokafka its live set of active partitions, which recovery can empty while
        aiokafka waits; aiokafka reads an empty set as "every partition", returns prefetched
        records of paused input partitions and moves past them, and Faust's getmany drops
        them. So: ask with a frozen copy, not at all with an empty one, and seek back the
        partitions that were paused while we waited, so that their records come again.
        """
        if active_partitions is None:  # a client-only app takes everything
            # Faust types the set as required; its client-only apps pass None, as here
            return await super()._fetch_records(consumer, active_partitions, timeout, max_records)  # type: ignore[arg-type]
        asked = set(active_partitions)
        if not asked:
            return {}
        # Faust types the result a Mapping; aiokafka's getmany returns a dict
        records = cast(dict[TP, list[Any]], await super()._fetch_records(consumer, asked, timeout, max_records))
        buffered = self.consumer._buffered_partitions  # noqa: SLF001
        for tp in [tp for tp in records if tp not in active_partitions and tp not in buffered]:
            consumer.seek(tp, records.pop(tp)[0].offset)
        return records


def note_answers(consumer: aiokafka.AIOKafkaConsumer, contact: BrokerContact) -> None:
    """Every answer a broker gives the consumer's client (fetches, heartbeats, metadata) is
    contact (streams/broker_contact.py). aiokafka has no public hook for it: its client is the
    private `_client` of the consumer, and `send` is where every request's answer comes back,
    or an exception when none came. Wrapped on this instance only."""
    client = getattr(consumer, "_client", None)
    if client is None or not hasattr(client, "send"):
        raise RuntimeError(
            "aiokafka.AIOKafkaConsumer has no _client.send; streams/faust_compat/ needs updating for this aiokafka"
        )
    send = client.send

    async def send_and_note(*args: Any, **kwargs: Any) -> Any:
        answer = await send(*args, **kwargs)
        contact.heard()
        return answer

    client.send = send_and_note


class _Consumer(BatchLaneConsumer, faust_aiokafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        missing = missing_on(self, "faust.transport.consumer.Consumer")
        if missing:
            raise RuntimeError(
                "this faust-streaming's consumer lacks " + ", ".join(missing) + ": streams/faust_compat/ needs updating"
            )

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport whose worker consumer waits at most `fetch_max_wait_ms` and
    hands the records of `batch_lane`'s topics to its handler (streams/faust_compat/batch_lane.py)."""

    Consumer = _Consumer

    def __init__(self, *args: Any, fetch_max_wait_ms: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.batch_lane: BatchLane | None = None
        self.broker_contact: BrokerContact | None = None


def use_short_fetch_wait(app: Any, fetch_max_wait_ms: int) -> None:
    """Give `app` this transport (before anything creates its consumer)."""
    app.transport = Transport(app.conf.broker_consumer, app, fetch_max_wait_ms=fetch_max_wait_ms)
