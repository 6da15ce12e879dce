"""The Faust application: one worker owns each patient's partition of every input topic, and
takes their records a fetched batch at a time (streams/faust_compat/batch_lane.py)."""

import asyncio
import logging
from typing import Any, Callable, cast

import faust
from faust.types import TP, StreamT
from faust.web import Request, Response, View

from monitor.config import load_config
from monitor.engine import Engine
from monitor.rules import RULES
from streams import faust_worker, metrics
from streams.broker_contact import BrokerContact, OutageLog
from streams.faust_compat.batch_lane import BatchLane, BatchLaneConsumer, table_partition
from streams.faust_compat.fetch_positions import committed_offset, read_offset
from streams.faust_compat.kafka_transport import Transport, use_short_fetch_wait
from streams.faust_compat.patient_table import patient_state_table
from streams.input_record import InputRecord
from streams.log_flood import KafkaClientFlood
from streams.long_lived import LongLivedObjects
from streams.loop_watchdog import LoopWatchdog
from streams.lost_records import LostRecordsWatchdog
from streams.patient_states import PatientStates, StateWrite
from streams.pipeline import Publish
from streams.record_step import Decision, RecordStep
from streams.settings import WorkerSettings
from streams.topic_setup import ensure_topics

log = logging.getLogger(__name__)

#: How long the quiet timer waits for its writes' deliveries before it acknowledges what is stored.
QUIET_DELIVERY_WAIT_S = 5.0


def configured_app(settings: WorkerSettings) -> faust.App:
    """The worker's Faust app with every setting and no agent (the benchmark's floor uses it
    too, so that its figure is Faust's cost under exactly the worker's configuration)."""
    # Faust's assignor checks that a static member's URL is the one it had before; derived
    # from the id, it survives a restart on another host or port.
    static_member: dict[str, Any] = {"canonical_url": f"http://{settings.instance_id}"} if settings.instance_id else {}
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=settings.faust_credentials(),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        store=settings.store,
        datadir=settings.data_dir,
        # Table contents are patient data: never served; the web server listens on loopback.
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=False,
        web_stats_enabled=False,
        consumer_auto_offset_reset="earliest",
        # A dead worker's patients move to the others after this long without a heartbeat.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        consumer_group_instance_id=settings.instance_id,
        **static_member,
    )
    use_short_fetch_wait(app, settings.fetch_max_wait_ms)
    return app


class Worker:
    """The engine, its durable state and the Faust app, wired together.

    The input topics share one agent (and one batch lane) so that a patient's vitals, clinical
    events and acknowledgements, which share a key and so a partition number, land on the same
    worker.
    """

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.ready = False
        self.app = app = configured_app(settings)
        topics = settings.topics
        self.engine = Engine(load_config(settings.clinical_config))
        self.table = patient_state_table(app, "patient-state", settings.partitions)
        self.step = RecordStep(self.engine, topics, self.table, settings.checkpoint_interval_s)
        # A commit waits for these (streams/faust_compat/batch_lane.py): a record's dead letter
        # is its only trace, and its offset is acknowledged once it is taken.
        self._dead_letters_in_flight: set[asyncio.Future] = set()
        self.inputs = app.topic(topics.vitals, topics.clinical_events, topics.alert_acks)
        self.input_names = {topics.vitals, topics.clinical_events, topics.alert_acks}
        # Faust can drop records in flight as a rebalance ends: this re-reads them.
        # Not while the broker is away: its look-ups would wait for the broker (it cannot lose
        # records then, nothing arrives).
        self.lost_records = LostRecordsWatchdog(
            app,
            self.input_names,
            lambda: self.ready and self.broker_contact.reachable(),
            check_interval_s=settings.lost_records_check_s,
            stall_s=settings.lost_records_stall_s,
        )
        self.long_lived = LongLivedObjects()
        self.engine_stalls = metrics.EngineStalls()
        self.loop_watchdog = LoopWatchdog(settings.loop_stall_s, settings.stop_timeout_s)
        self.broker_contact = BrokerContact(settings.broker_silence_limit_s)
        self.log_flood = KafkaClientFlood(outage=lambda: not self.broker_contact.reachable())
        self.outage_log = OutageLog(
            self.broker_contact, settings.broker, lambda: self.log_flood.problems, log.warning, log.info
        )
        metrics.BROKER_CONNECTED.set_function(lambda: float(self.broker_contact.reachable()))
        metrics.BROKER_SILENT.set_function(self.broker_contact.silent_for)
        self._register()

    # -- wiring --------------------------------------------------------------------------
    def _register(self) -> None:
        app, settings = self.app, self.settings
        app.agent(self.inputs, name="observe")(self._observe)
        # use_short_fetch_wait (configured_app) gave the app this transport.
        cast(Transport, app.transport).broker_contact = self.broker_contact
        cast(Transport, app.transport).batch_lane = BatchLane(
            frozenset(self.input_names),
            self._take,
            self.lost_records.sensor.took,
            safe_offset=self.step.safe_offset,
            in_hand=self.lost_records.sensor.in_hand,
            before_commit=self._dead_letters_sent,
            batch_done=self._release_held,
        )
        app.timer(settings.tick_interval_s, name="advance")(self._advance)
        app.timer(5.0, name="gauges")(self._update_gauges)
        app.timer(max(1.0, min(5.0, settings.checkpoint_interval_s / 4)), name="store-quiet")(self._store_quiet)
        app.timer(5.0, name="broker-outage-log")(self._report_outage)
        self.table.on_recover(self._on_recovered)
        # mode types a receiver as (sender, *args, signal=..., **kwargs), which this one is
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]
        worker = self

        @app.page("/metrics")
        class Metrics(View):
            async def get(self, request: Request) -> Response:
                return self.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

        @app.page("/healthz")
        class Health(View):
            async def get(self, request: Request) -> Response:
                return self.json({"status": "ok"})

        @app.page("/readyz")
        class Ready(View):
            async def get(self, request: Request) -> Response:
                stalled = worker.loop_watchdog.problem()
                if stalled is not None:
                    return self.json({"status": "stalled", "reason": stalled}, status=503)
                unreachable = worker.broker_unreachable()
                if unreachable is not None:
                    return self.json({"status": "broker-unreachable", "reason": unreachable}, status=503)
                if worker.ready:
                    return self.json({"status": "ready", "patients": len(worker.engine.patients())})
                return self.json({"status": "recovering"}, status=503)

    def broker_unreachable(self) -> str | None:
        """Why /readyz says not ready for the broker's sake, or None while it answers."""
        contact = self.broker_contact
        if contact.reachable():
            return None
        return (
            f"no answer from the Kafka broker {self.settings.broker} for {contact.silent_for():.0f} s "
            f"(last answer: {contact.last_contact()}; not ready after "
            f"{contact.unreachable_after_s:.0f} s, CRSMON_BROKER_UNREACHABLE_S): no vital sign "
            "arrives and no alert leaves. Check that the broker runs and that this host reaches "
            "it (CRSMON_BROKER, CRSMON_KAFKA_* TLS/SASL settings)"
        )

    async def _report_outage(self) -> None:
        self.outage_log.report()

    # -- the stream ----------------------------------------------------------------------
    async def _observe(self, stream: StreamT) -> None:
        """The agent subscribes the worker to its input topics, and with them co-partitions the
        table; the batch lane takes their records before they reach it. Were one to arrive
        (a Faust that no longer calls `getmany`), it is processed all the same."""
        async for event in stream.events():
            await self._take(event.message)
            await self._release_held()  # each record is a batch of its own here

    async def _take(self, record: InputRecord) -> None:
        """One input record, from the batch lane (streams/faust_compat/batch_lane.py) or the agent: the step
        decides (streams/record_step.py), the worker carries the decision out."""
        decision = self.step.take(record)
        if decision.publish or decision.alerts:  # most records publish nothing: no coroutine
            await self._publish(decision)
        if decision.write is not None:
            await self._write(decision.write)
        if decision.overdue is not None:
            await self._write(decision.overdue)

    async def _release_held(self) -> None:
        """The statuses held until the batch's end (streams/record_step.py: lab results)."""
        decision = self.step.release_held()
        if decision.publish:
            await self._publish(decision)

    async def _carry_out(self, decision: Decision) -> None:
        await self._publish(decision)
        if decision.write is not None:
            await self._write(decision.write)

    async def _publish(self, decision: Decision) -> None:
        dead_letters = self.settings.topics.dead_letters
        for publish in decision.publish:
            delivery = await self._produce(publish)
            if delivery is not None:
                delivery.add_done_callback(self._confirmation(publish))
                if publish.topic == dead_letters:
                    self._dead_letters_in_flight.add(delivery)
                    delivery.add_done_callback(self._dead_letters_in_flight.discard)
        if decision.alerts:
            for alert in decision.alerts:
                delivery = await self._produce(alert)
                if delivery is not None:
                    delivery.add_done_callback(self._confirmation(alert))
            await asyncio.sleep(0)  # the producer sends an alert now, not after the batch

    async def _produce(self, publish: Publish) -> Any:
        """Straight to Faust's producer: its Topic.send machinery cost ~500 µs per message here
        (bench/worker.py). A commit waits for the dead letters among these, not for the rest
        (streams/faust_compat/batch_lane.py).

        A message the producer refuses (too large for the broker, a topic it cannot write) is
        counted and logged, never raised: raised here, it stopped the worker, and the same
        record stopped it again at every restart (issue 19). None then."""
        try:
            return await self.app.producer.send(publish.topic, publish.key, publish.value, None, None, None)
        except Exception as error:  # noqa: BLE001 - any refusal: the ward must go on
            _publish_failed(publish, error)
            return None

    def _confirmation(self, publish: Publish) -> Callable[[asyncio.Future], None]:
        step, patient_id, value = self.step, publish.unconfirmed_of, publish.value

        def confirmed(done: asyncio.Future) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                _publish_failed(publish, error)
            elif patient_id is not None:
                step.delivered(patient_id, value)

        return confirmed

    async def _dead_letters_sent(self) -> None:
        """Before a commit: the dead letters produced so far are delivered (or refused, which
        is counted and logged): a crash after the commit cannot lose one."""
        if self._dead_letters_in_flight:
            await asyncio.wait(list(self._dead_letters_in_flight))

    async def _write(self, write: StateWrite) -> asyncio.Future:
        """Inside the record's event (the batch lane's), so Faust's store finds its partition;
        its changelog message is handed to the producer at once (streams/faust_compat/patient_table.py
        says why not through Faust's buffer). The patient counts as stored once the broker
        confirms it, and unstored again if it refuses (streams/patient_states.py): commits
        never pass records whose state did not reach the changelog. Returns a future done once
        the outcome is known and reported."""
        if write.value is None:
            self.table.pop(write.key, None)  # a tombstone
        else:
            self.table[write.key] = write.value
        deliveries = await self.table.send_written()
        metrics.STATE_WRITES.labels(write.cause).inc()
        return _stored_once_delivered(write, deliveries, self.step.states)

    # -- time, checkpoints, rebalances ---------------------------------------------------
    async def _store_quiet(self) -> None:
        """Write the patients whose latest records no record has come to carry the write of
        (streams/patient_states.py: `quiet`), each in its own partition's table, and let the
        commits move past them: a ward that falls quiet is committed to its last record."""
        if not self.ready or self.app.should_stop:  # stopping: its producer may be gone
            return
        await self._release_held()  # between two records of a batch, the timer may write its patients
        writes = self.step.quiet_writes()
        if writes:
            outcomes = []
            with table_partition() as move_to:
                for partition, write in writes:
                    move_to(partition)
                    outcomes.append(await self._write(write))
            # stored once delivered, then acknowledged; a broker away does not hold the timer
            # (what is confirmed later is acknowledged by a later call or batch)
            await asyncio.wait(outcomes, timeout=QUIET_DELIVERY_WAIT_S)
        cast(BatchLaneConsumer, self.app.consumer).acknowledge_stored()

    async def _advance(self) -> None:
        """Rules about silence fire from here, and the hourly evaluations: nothing else
        happens when nothing arrives. A slice of patients at a time (`tick_patients`), the
        loop given back between slices: an hour's evaluations fall due for every patient at
        once, and in one piece they held the loop for seconds (records, /readyz and the
        watchdog waited)."""
        while self.ready:
            await self._carry_out(self.step.advance(self.settings.tick_patients))
            if not self.step.more_due():
                return
            await asyncio.sleep(0)

    async def _on_recovered(self) -> None:
        partitions = {tp.partition for tp in self.app.consumer.assignment() if tp.topic in self.input_names}
        with self.long_lived.restoring():  # the collector's passes were most of a restore's time
            restored, resend = self.step.assigned(partitions)
        await self._carry_out(resend)
        self.long_lived.recovered(len(self.engine.patients()))
        self.ready = True
        log.info(
            "ready: %d partitions, %d patients (%d restored from the table)",
            len(partitions),
            len(self.engine.patients()),
            restored,
        )

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **kwargs: Any) -> None:
        self.ready = False  # until the table has recovered the new assignment

    async def _update_gauges(self) -> None:
        self.engine_stalls.export(self.engine.stalls)
        patients = len(self.engine.patients())
        metrics.PATIENTS_TRACKED.set(patients)
        self.long_lived.counted(patients)
        open_by_rule = {rule: 0 for rule in RULES}
        for patient_id in list(self.engine.patients()):
            for rule in RULES:
                episode = self.engine.episode(patient_id, rule)
                if episode is not None and episode.open:
                    open_by_rule[rule] += 1
        for rule, count in open_by_rule.items():
            metrics.OPEN_EPISODES.labels(rule).set(count)
        consumer = self.app.consumer
        for tp in consumer.assignment():
            if tp.topic not in self.input_names:
                continue
            highwater = consumer.highwater(tp)
            taken = read_offset(consumer, tp)  # the last offset taken; None before any
            position = 0 if taken is None else taken + 1
            committed = committed_offset(consumer, tp) or 0  # what a restart would resume from
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(
                    max(0, highwater - max(position, committed))
                )
            metrics.RECORDS_UNCOMMITTED.labels(tp.topic, str(tp.partition)).set(max(0, position - committed))


def _stored_once_delivered(
    write: StateWrite, deliveries: list[asyncio.Future], states: PatientStates
) -> asyncio.Future:
    """Report the write to `states` as stored once every changelog message of it is delivered,
    as failed if one is refused or cancelled; the future returned is done once reported."""
    reported: asyncio.Future = asyncio.get_running_loop().create_future()
    waiting = len(deliveries)
    refused = False

    def delivered(delivery: asyncio.Future) -> None:
        nonlocal waiting, refused
        waiting -= 1
        refused = refused or delivery.cancelled() or delivery.exception() is not None
        if waiting == 0:
            if refused:
                states.write_failed(write)
            else:
                states.write_stored(write)
            reported.set_result(None)

    if not deliveries:  # nothing to store (a delete of what the table did not hold)
        states.write_stored(write)
        reported.set_result(None)
    for delivery in deliveries:
        delivery.add_done_callback(delivered)
    return reported


def _publish_failed(publish: Publish, error: BaseException) -> None:
    metrics.PUBLISH_FAILURES.labels(publish.topic).inc()
    kept = (
        "; the alert stays unconfirmed in its patient's record and is sent again when the record is next restored"
        if publish.unconfirmed_of is not None
        else ""
    )
    log.error(
        "could not publish a %d-byte message to %s (%s: %s)%s; processing goes on",
        len(publish.value),
        publish.topic,
        type(error).__name__,
        error,
        kept,
    )


def run_worker(settings: WorkerSettings) -> None:
    """Start the worker in the foreground until SIGINT/SIGTERM."""
    if settings.create_topics:
        ensure_topics(settings)
    worker = Worker(settings)
    faust_worker.Worker(
        worker.app, worker.loop_watchdog, worker.log_flood, loglevel=settings.log_level, quiet=True
    ).execute_from_commandline()
