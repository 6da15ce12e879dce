"""The floors: a Faust app that does nothing with each message, configured like `crsmon worker`.

Run as `python bench/floor_app.py` with the CRSMON_* environment of a worker. The settings are
read through streams.settings, so broker, app id, topics, partitions, serializers and web port
are the worker's own; the agent reads the same three input topics with `stream.events()` as
the worker's agent does, and only counts. Whatever the worker does beyond this is its job.

The count is served on /metrics under the worker's counter name, so the benchmark measures
floor and worker with one yardstick. It is a plain integer, not a Prometheus counter, to keep
the floor as low as a Faust agent can go.
"""

import os
from typing import cast

import faust
from faust.types import StreamT
from faust.web import Request, Response, View

from streams.app import configured_app
from streams.faust_compat.batch_lane import BatchLane
from streams.faust_compat.kafka_transport import Transport
from streams.settings import WorkerSettings

#: BENCH_FLOOR_LANE=1: the floor of the path the worker takes — the same agent subscribes the
#: topics, but their records go through the batch lane to a `take` that only counts them
#: (streams/faust_compat/batch_lane.py). bench/worker.py measures both floors.
LANE = os.environ.get("BENCH_FLOOR_LANE") == "1"
#: For experiments only (bench/worker.py --worker-env NAME=VALUE), never in the floor figure:
#: BENCH_FLOOR_BATCH=1000 makes the agent take messages in batches (`stream.take`), to show
#: what Faust costs per message when the agent works per batch; BENCH_FLOOR_SEND_EVERY=5 makes
#: it send every 5th message on to the patient-status topic with `Topic.send`, as the worker
#: sends its outputs, to show what Faust costs per message produced.
BATCH = int(os.environ.get("BENCH_FLOOR_BATCH", "1"))
SEND_EVERY = int(os.environ.get("BENCH_FLOOR_SEND_EVERY", "0"))


def build_floor_app(settings: WorkerSettings) -> faust.App:
    app = configured_app(settings)
    topics = settings.topics
    consumed = [0]

    inputs = app.topic(topics.vitals, topics.clinical_events, topics.alert_acks)
    if BATCH > 1:

        @app.agent(inputs, name="observe")
        async def observe(stream: StreamT) -> None:
            async for values in stream.take(BATCH, within=0.05):
                consumed[0] += len(values)
    elif SEND_EVERY:
        output = app.topic(topics.patient_status, partitions=settings.partitions)

        @app.agent(inputs, name="observe")
        async def observe(stream: StreamT) -> None:
            async for event in stream.events():
                consumed[0] += 1
                if consumed[0] % SEND_EVERY == 0:
                    await output.send(key=event.message.key, value=event.message.value)
    else:

        @app.agent(inputs, name="observe")
        async def observe(stream: StreamT) -> None:
            async for _event in stream.events():
                consumed[0] += 1

    if LANE:

        async def count(record) -> None:
            consumed[0] += 1

        cast(Transport, app.transport).batch_lane = BatchLane(frozenset(inputs.topics), count)  # configured_app's

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            text = (
                "# TYPE crsmon_messages_consumed_total counter\n"
                f'crsmon_messages_consumed_total{{topic="all"}} {consumed[0]}\n'
            )
            return self.bytes(text.encode(), content_type="text/plain; version=0.0.4")

    return app


if __name__ == "__main__":
    settings = WorkerSettings()
    faust.Worker(build_floor_app(settings), loglevel=settings.log_level, quiet=True).execute_from_commandline()
