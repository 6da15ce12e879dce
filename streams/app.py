"""The Faust application: one agent that owns each patient's partition of every input topic."""

import faust
from faust.web import Request, Response, View

from monitor.config import load_config
from monitor.engine import Engine
from streams import metrics
from streams.pipeline import Pipeline
from streams.settings import WorkerSettings
from streams.topic_setup import ensure_topics


def build_app(settings: WorkerSettings) -> faust.App:
    """A configured Faust app with the worker's agent and its web endpoints.

    The input topics share one agent so that a patient's vitals, clinical events and
    acknowledgements, which share a key and so a partition number, land on the same worker in
    order per topic.
    """
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=settings.faust_credentials(),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        store="memory://",
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=False,
        web_stats_enabled=False,
        consumer_auto_offset_reset="earliest",
    )
    topics = settings.topics
    engine = Engine(load_config(settings.clinical_config))
    pipeline = Pipeline(engine, topics)
    inputs = app.topic(topics.vitals, topics.clinical_events, topics.alert_acks)
    outputs = {
        name: app.topic(name, partitions=settings.partitions)
        for name in (topics.patient_status, topics.alerts, topics.dead_letters)
    }

    @app.agent(inputs, name="observe")
    async def observe(stream: faust.Stream) -> None:
        async for event in stream.events():
            message = event.message
            for publish in pipeline.handle(
                message.topic, message.partition, message.offset, message.key, message.value
            ):
                await outputs[publish.topic].send(key=publish.key, value=publish.value)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    app.crsmon_engine = engine  # for tests and the timer that later issues add
    return app


def run_worker(settings: WorkerSettings) -> None:
    """Start the worker in the foreground until SIGINT/SIGTERM."""
    if settings.create_topics:
        ensure_topics(settings)
    app = build_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    worker.execute_from_commandline()
