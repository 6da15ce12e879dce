"""A simulated ward published to Kafka at accelerated time: the bedside monitors of `make demo`.

The simulator (simulator/) yields contract models in event time and knows nothing of
Kafka or clocks; this is the shell around it. The ward is simulated to run *now*: its window
starts `history` hours before the present, that past is published at once (so the dashboard's
6-hour sparklines are full when the page opens, and the earliest illnesses, which the simulator
starts 6 hours or more into its window, are under way), and from the present on each message is
published when its time comes, `speed` times faster than the wall clock. At 60x one simulated
hour passes per wall minute, so event time runs ahead of the wall clock by (speed - 1) times
the time elapsed: timestamps stay real instants, and every duration the engine measures
(10 minutes of hypotension, 2 minutes of silence) keeps its clinical meaning.

Messages are keyed by patient_id, as the contract asks of every producer.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, Iterable

from monitor.wire import InputEvent, VitalSigns, encode
from simulator import Simulation, SimulationSettings

if TYPE_CHECKING:
    from streams.settings import WorkerSettings  # imported in the function that needs it at run time

PROGRESS_EVERY_S = 10.0
_CONFIRM_EVERY = 2000  # messages between waits for Kafka's acknowledgements (bounds memory)


class FeedError(RuntimeError):
    """The ward could not be published; the message says what to do."""


@dataclass(frozen=True)
class Pacing:
    """Where event time meets wall time.

    `live_from` is the event time that is "now" when pacing begins; a later message is due
    `(ts - live_from) / speed` wall seconds after that. Earlier messages are the ward's history.
    """

    live_from: datetime
    speed: float

    def due_after(self, ts: datetime) -> float | None:
        """Wall seconds after pacing begins at which `ts` is due; None for history."""
        if ts < self.live_from:
            return None
        return (ts - self.live_from).total_seconds() / self.speed


def ward_running_now(
    settings: SimulationSettings, history_hours: float, speed: float, now: datetime | None = None
) -> tuple[SimulationSettings, Pacing]:
    """The same ward with its window moved so that `history_hours` of it lie in the past.

    The present is cut to the whole minute, so that timestamps read as a monitor's do. A ward
    whose settings do not name a UTC offset gets the machine's, so that days and nights (walks,
    sleep, circadian rhythm) fall when they do on the wall clock.
    """
    if speed <= 0:
        raise FeedError(f"--speed {speed:g} must be more than 0 (60 = one simulated hour per minute)")
    if history_hours < 0:
        raise FeedError(f"--history {history_hours:g} must be 0 or more hours")
    if history_hours >= settings.days * 24:
        raise FeedError(
            f"--history {history_hours:g} h leaves nothing of a {settings.days:g}-day "
            "window to run live: give fewer hours of history or more --days"
        )
    present = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(second=0, microsecond=0)
    update: dict = {"start": present - timedelta(hours=history_hours)}
    if "utc_offset_hours" not in settings.model_fields_set:
        update["utc_offset_hours"] = (time.localtime().tm_gmtoff or 0) / 3600
    return settings.model_copy(update=update), Pacing(present, speed)


@dataclass
class FeedProgress:
    """How far the feed has come; what `crsmon simulate --kafka` prints and the demo shows."""

    published: dict[str, int] = field(default_factory=dict)
    history: int = 0
    history_seconds: float = 0.0
    event_time: datetime | None = None
    behind_s: float = 0.0  # how late the last live message went out, after its due time

    @property
    def total(self) -> int:
        return sum(self.published.values())


class WardFeed:
    """Publishes one simulated ward through an aiokafka producer, paced by `Pacing`.

    `on_history_done` is called once the history is in Kafka (acknowledged), before the first
    live message: the moment a demo can tell the user that the ward is up.
    """

    def __init__(
        self,
        messages: Iterable[InputEvent],
        pacing: Pacing,
        producer,
        vitals_topic: str,
        clinical_events_topic: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_history_done: Callable[[FeedProgress], None] = lambda progress: None,
        on_progress: Callable[[FeedProgress], None] = lambda progress: None,
        progress_every_s: float = PROGRESS_EVERY_S,
    ) -> None:
        self.messages = messages
        self.pacing = pacing
        self.producer = producer
        self.vitals_topic = vitals_topic
        self.clinical_events_topic = clinical_events_topic
        self.clock = clock
        self.on_history_done = on_history_done
        self.on_progress = on_progress
        self.progress_every_s = progress_every_s
        self.progress = FeedProgress({vitals_topic: 0, clinical_events_topic: 0})
        self._unconfirmed: list[asyncio.Future] = []

    async def run(self, stop: asyncio.Event) -> FeedProgress:
        """Publish until the ward's window ends or `stop` is set; every message sent is
        acknowledged by Kafka before this returns."""
        began = self.clock()
        live_began: float | None = None
        next_progress = began + self.progress_every_s
        progress = self.progress
        for message in self.messages:
            if stop.is_set():
                break
            due = self.pacing.due_after(message.ts)
            if due is not None:
                if live_began is None:
                    await self._confirm()
                    progress.history_seconds = self.clock() - began
                    self.on_history_done(progress)
                    live_began = self.clock()
                wait = live_began + due - self.clock()
                if wait > 0:
                    await self._confirm()
                    if await _stopped_within(stop, wait):
                        break
                else:
                    progress.behind_s = -wait
            else:
                progress.history += 1
            await self._send(message)
            progress.event_time = message.ts
            if self.clock() >= next_progress:
                next_progress = self.clock() + self.progress_every_s
                self.on_progress(progress)
        await self._confirm()
        if live_began is None and not stop.is_set():  # a window that was all history
            progress.history_seconds = self.clock() - began
            self.on_history_done(progress)
        return progress

    async def _send(self, message: InputEvent) -> None:
        topic = self.vitals_topic if isinstance(message, VitalSigns) else self.clinical_events_topic
        delivery = await self.producer.send(topic, encode(message, drop_none=True), key=message.patient_id.encode())
        self._unconfirmed.append(delivery)
        self.progress.published[topic] += 1
        if len(self._unconfirmed) >= _CONFIRM_EVERY:
            await self._confirm()

    async def _confirm(self) -> None:
        """Wait for Kafka to acknowledge what was sent; a failure stops the feed."""
        unconfirmed, self._unconfirmed = self._unconfirmed, []
        if unconfirmed:
            await asyncio.gather(*unconfirmed)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


# -- `crsmon simulate --kafka` ----------------------------------------------------------------


def _clock_time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%d %b %H:%M") if moment else "-"


def describe_speed(speed: float) -> str:
    """`60x (one simulated hour per wall minute)`: what a speed means to a person."""
    minutes_per_wall_minute = speed / 60
    if speed == 60:
        return "60x (one simulated hour per wall minute)"
    if minutes_per_wall_minute >= 1:
        return f"{speed:g}x ({minutes_per_wall_minute:g} simulated hours per wall minute)"
    return f"{speed:g}x ({speed:g} simulated minutes per wall minute)"


def _settings_from(args: argparse.Namespace) -> SimulationSettings:
    """The ward the command line describes, read as `crsmon simulate` reads it for a file."""
    from simulator.command import OVERRIDES
    from simulator.files import InvalidSettings, load_settings

    if args.start is not None:
        raise FeedError(
            "--start cannot be combined with --kafka: a published ward runs now "
            "(--history says how much of it lies in the past)"
        )
    if args.out != "-":
        raise FeedError("--out cannot be combined with --kafka: the ward goes to Kafka")
    overrides = {name: value for name in OVERRIDES if (value := getattr(args, name, None)) is not None}
    try:
        settings = load_settings(args.settings, overrides)
    except InvalidSettings as error:
        raise FeedError(str(error)) from None
    if args.artifacts is not None:
        if args.artifacts < 0:
            raise FeedError(f"--artifacts {args.artifacts} must be 0 or more")
        settings = settings.model_copy(update={"artifacts": settings.artifacts.scaled(args.artifacts)})
    return settings


def feed_command(args: argparse.Namespace) -> int:
    """`crsmon simulate --kafka BROKER`: 0 when the window ended or a signal stopped it, 1 when
    Kafka failed on the way, 2 for unusable options."""
    from kafka_client.security import KafkaSecurityError, kafka_client_options_from_env
    from simulator.files import write_truth
    from streams.settings import WorkerSettings

    try:
        settings, pacing = ward_running_now(_settings_from(args), args.history, args.speed)
        client_options = kafka_client_options_from_env()
    except (FeedError, KafkaSecurityError) as error:
        print(f"crsmon simulate: {error}", file=sys.stderr)
        return 2
    if args.truth:
        try:
            write_truth(Simulation(settings), args.truth)
        except OSError as error:
            print(f"crsmon simulate: cannot write {args.truth}: {error.strerror}", file=sys.stderr)
            return 2
    worker_settings = WorkerSettings(broker=args.kafka)
    try:
        return asyncio.run(_publish(settings, pacing, worker_settings, client_options))
    except FeedError as error:
        print(f"crsmon simulate: {error}", file=sys.stderr)
        return 1


async def _publish(settings: SimulationSettings, pacing: Pacing, worker: WorkerSettings, client_options: dict) -> int:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from streams.topic_setup import ensure_topics

    topics = worker.topics
    loop = asyncio.get_running_loop()
    if worker.create_topics:  # with the worker's partitions: the broker's default would differ
        try:
            await loop.run_in_executor(None, lambda: ensure_topics(worker, give_up_after=30.0))
        except KafkaError as error:
            raise FeedError(
                f"cannot reach Kafka at {worker.broker} to create the topics ({error}); "
                "check the address and that the broker is running"
            ) from None
    producer = AIOKafkaProducer(
        bootstrap_servers=worker.broker,
        acks="all",
        linger_ms=5,
        enable_idempotence=True,
        client_id="crsmon-simulate",
        **client_options,
    )
    try:
        await producer.start()
    except KafkaError as error:
        await producer.stop()
        raise FeedError(
            f"cannot reach Kafka at {worker.broker} ({error}); check the address and that the broker is running"
        ) from None
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    simulation = Simulation(settings)
    end = settings.start + timedelta(seconds=settings.window_s)
    print(
        f"crsmon simulate: {settings.patients} patients on {worker.broker} "
        f"({topics.vitals}, {topics.clinical_events}); ward time {_clock_time(settings.start)} to "
        f"{_clock_time(end)}, the first {(pacing.live_from - settings.start).total_seconds() / 3600:g} h "
        f"published at once, then {describe_speed(pacing.speed)}",
        flush=True,
    )
    if pacing.speed > 1:
        print(
            "crsmon simulate: from then on the ward's time runs ahead of the clock; a worker refuses "
            "records dated more than its future_tolerance_s (300 s by default) ahead, so give it a "
            'clinical config with a larger one, e.g. {"future_tolerance_s": 31536000} (make demo does)',
            flush=True,
        )

    def history_done(progress: FeedProgress) -> None:
        print(
            f"crsmon simulate: history published: {progress.history:,} messages in "
            f"{progress.history_seconds:.1f} s; live from {_clock_time(pacing.live_from)} at "
            f"{pacing.speed:g}x",
            flush=True,
        )

    def report(progress: FeedProgress) -> None:
        late = f", {progress.behind_s:.1f} s behind schedule" if progress.behind_s > 1 else ""
        print(
            f"crsmon simulate: ward time {_clock_time(progress.event_time)}, "
            f"{progress.total:,} messages published{late}",
            flush=True,
        )

    feed = WardFeed(
        simulation.events(),
        pacing,
        producer,
        topics.vitals,
        topics.clinical_events,
        on_history_done=history_done,
        on_progress=report,
    )
    try:
        progress = await feed.run(stop)
    except KafkaError as error:
        raise FeedError(
            f"Kafka at {worker.broker} did not take a message ({error!r}); "
            "check that the broker is running and the topics exist"
        ) from None
    finally:
        await producer.stop()
    why = "stopped" if stop.is_set() else "the simulated window ended"
    print(
        f"crsmon simulate: {why} at ward time {_clock_time(progress.event_time)}; "
        f"{progress.total:,} messages published",
        flush=True,
    )
    return 0
