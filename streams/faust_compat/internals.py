"""Every private name of Faust, aiokafka and pydantic that crsmon relies on, as data: the
import guard (streams/faust_compat/__init__.py), the consumer's own check when it is created
(kafka_transport.py) and tests/test_faust_compat.py all read this one list, so a name used
and not listed, or listed and not checked, has one place to be fixed.

`owner` is the dotted path of the class or module that holds `name`; `on_instance` names that
only exist once the object is built (set in `__init__` or `start()`), which the import guard
cannot see and the tests check on real instances.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    owner: str
    name: str
    used_in: str
    why: str
    on_instance: bool = False


_CONSUMER = "faust.transport.consumer.Consumer"
_AIO = "faust.transport.drivers.aiokafka"

FAUST: tuple[Internal, ...] = (
    Internal(
        "faust.streams",
        "_current_event",
        "batch_lane.table_partition",
        "Faust's RocksDB store finds a key's partition through current_event(): the lane "
        "sets a stand-in event per record",
    ),
    Internal(
        _CONSUMER,
        "_wait_next_records",
        "batch_lane.BatchLaneConsumer.getmany",
        "the fetch Faust's getmany starts with; the lane takes over after it",
    ),
    Internal(_CONSUMER, "_add_gap", "batch_lane", "offsets a fetch skipped, so commits move past them"),
    Internal(_CONSUMER, "perform_seek", "batch_lane", "records fetched while the flow is stopped are read again"),
    Internal(_CONSUMER, "_to_message", "batch_lane", "changelog records still go to Faust's conductor"),
    Internal(
        _CONSUMER, "commit", "batch_lane", "commit every `_commit_every` acknowledged offsets, as Faust's ack does"
    ),
    Internal(
        _CONSUMER,
        "_commit_tps",
        "batch_lane",
        "Faust's commit, taken over to wait only for what the offsets stand on (dead letters)",
    ),
    Internal(_CONSUMER, "_filter_committable_offsets", "batch_lane._commit_tps", "the offsets a commit would take"),
    Internal(_CONSUMER, "_handle_attached", "batch_lane._commit_tps", "messages Faust attaches to an offset"),
    Internal(
        _CONSUMER,
        "_commit_offsets",
        "batch_lane",
        "the commit itself, taken over without its producer flush (the lane's offsets wait for nothing in it)",
    ),
    Internal(_CONSUMER, "_commit", "batch_lane._commit_offsets", "the offset commit request"),
    Internal(
        _CONSUMER,
        "in_transaction",
        "batch_lane._commit_offsets",
        "Faust's exactly-once mode, whose commit is left to Faust",
        True,
    ),
    Internal(_CONSUMER, "flow_active", "batch_lane", "records are skipped once a rebalance began"),
    Internal(_CONSUMER, "should_stop", "batch_lane", "a stopping consumer hands out nothing"),
    Internal(
        _CONSUMER,
        "_read_offset",
        "batch_lane, fetch_positions (lag gauge)",
        "Faust's per-partition last offset read",
        True,
    ),
    Internal(
        _CONSUMER, "_committed_offset", "batch_lane, lost_records, app (lag gauge)", "what a restart resumes from", True
    ),
    Internal(_CONSUMER, "_acked", "batch_lane._acknowledge", "Faust's acknowledged offsets, which it commits", True),
    Internal(_CONSUMER, "_acked_index", "batch_lane._acknowledge", "the set twin of `_acked`", True),
    Internal(_CONSUMER, "_n_acked", "batch_lane._acknowledge", "counts towards `_commit_every`", True),
    Internal(
        _CONSUMER, "_commit_every", "batch_lane", "Faust's broker_commit_every setting, as its consumer holds it", True
    ),
    Internal(
        _CONSUMER,
        "_buffered_partitions",
        "batch_lane, kafka_transport",
        "partitions Faust still takes records of while paused",
        True,
    ),
    Internal(_CONSUMER, "scheduler", "batch_lane", "Faust's order of handing out records of other topics", True),
    Internal(
        "faust.app.base.App",
        "consumer_generation_id",
        "batch_lane",
        "a batch of a previous generation is not acknowledged",
    ),
    Internal("faust.app.base.App", "flow_control", "batch_lane", "suspended when a rebalance begins"),
    Internal(
        f"{_AIO}.AIOKafkaConsumerThread",
        "_fetch_records",
        "kafka_transport",
        "closes the rebalance race that dropped fetched records (lost_records.py)",
    ),
    Internal(
        f"{_AIO}.AIOKafkaConsumerThread",
        "_create_worker_consumer",
        "kafka_transport",
        "the place to set aiokafka's fetch wait, for which Faust has no setting",
    ),
    Internal(f"{_AIO}.AIOKafkaConsumerThread", "_ensure_consumer", "fetch_positions", "the live aiokafka consumer"),
    Internal(f"{_AIO}.Consumer", "_new_consumer_thread", "kafka_transport", "gives the consumer our thread class"),
    Internal(_CONSUMER, "_thread", "fetch_positions", "the consumer thread holding aiokafka's consumer", True),
    Internal(
        "faust.tables.table.Table",
        "on_key_set",
        "patient_table",
        "overridden: the hook Faust's table calls on a set, where it would buffer the "
        "changelog message; the writer sends it itself (send_written)",
    ),
    Internal("faust.tables.table.Table", "on_key_del", "patient_table", "overridden, as on_key_set, for a delete"),
    Internal(
        "faust.tables.base.Collection",
        "_sensor_on_set",
        "patient_table",
        "what Faust's on_key_set tells its sensors",
        True,
    ),
    Internal(
        "faust.tables.base.Collection",
        "_sensor_on_del",
        "patient_table",
        "what Faust's on_key_del tells its sensors",
        True,
    ),
)

AIOKAFKA: tuple[Internal, ...] = (
    Internal(
        "aiokafka.AIOKafkaConsumer",
        "_fetch_max_wait_ms",
        "kafka_transport",
        "Faust hard-codes 1500 ms; set before start(), which hands it to the Fetcher",
        True,
    ),
    Internal(
        "aiokafka.AIOKafkaConsumer",
        "_client",
        "kafka_transport.note_answers",
        "every broker answer comes back through its send(): /readyz and crsmon_broker_connected "
        "(streams/broker_contact.py)",
        True,
    ),
    Internal("aiokafka.AIOKafkaConsumer", "_fetcher", "fetch_positions", "positions and prefetched records", True),
    Internal(
        "aiokafka.consumer.fetcher.Fetcher",
        "_subscriptions",
        "fetch_positions",
        "the assignment and its positions",
        True,
    ),
    Internal(
        "aiokafka.consumer.fetcher.Fetcher",
        "_records",
        "fetch_positions",
        "records prefetched and not yet handed out, per partition",
        True,
    ),
    Internal(
        "aiokafka.consumer.subscription_state.SubscriptionState",
        "subscription",
        "fetch_positions",
        "the current subscription, holding the assignment",
    ),
    Internal(
        "aiokafka.consumer.subscription_state.Assignment", "state_value", "fetch_positions", "one partition's state"
    ),
    Internal(
        "aiokafka.consumer.subscription_state.Assignment",
        "active",
        "fetch_positions",
        "false while a rebalance replaces it",
    ),
    Internal(
        "aiokafka.consumer.subscription_state.TopicPartitionState",
        "has_valid_position",
        "fetch_positions",
        "a position that is not being reset",
    ),
    Internal(
        "aiokafka.consumer.subscription_state.TopicPartitionState",
        "position",
        "fetch_positions",
        "the next offset aiokafka will fetch",
    ),
    # In kafka_client/broker_login.py, which every process imports and which may not import
    # streams/: listed and checked here like the rest, pinned with the rest.
    Internal(
        "aiokafka.conn",
        "create_conn",
        "kafka_client/broker_login.py",
        "one connection that sends one request: the start-up login check reads the broker's "
        "answer to SASL and TLS before any client retries it into a silent loop (undocumented: "
        "aiokafka's public clients never surface an authentication refusal this directly)",
    ),
)

#: In monitor/wire/trusted.py, which may not import streams/: listed and tested here.
PYDANTIC: tuple[Internal, ...] = tuple(
    Internal(
        "pydantic.BaseModel",
        slot,
        "monitor/wire/trusted.py",
        "builds already-valid models without validation: the slot's descriptor sets it",
    )
    for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)

EVERY = FAUST + AIOKAFKA + PYDANTIC


def resolve(dotted: str) -> object:
    """The module or class named by a dotted path."""
    module, _, rest = dotted.partition(".")
    found: object = importlib.import_module(module)
    path = module
    for part in rest.split(".") if rest else []:
        path = f"{path}.{part}"
        try:
            found = importlib.import_module(path)
        except ImportError:
            found = getattr(found, part)
    return found


def missing_on_classes(internals: tuple[Internal, ...] = FAUST + AIOKAFKA) -> list[str]:
    """The listed names a class or module lacks (those set on instances are not looked at)."""
    missing = []
    for internal in internals:
        if internal.on_instance:
            continue
        if not hasattr(resolve(internal.owner), internal.name):
            missing.append(f"{internal.owner}.{internal.name}")
    return missing


def missing_on(instance: object, owner: str, internals: tuple[Internal, ...] = EVERY) -> list[str]:
    """The names listed for `owner` that `instance` lacks."""
    return [f"{owner}.{i.name}" for i in internals if i.owner == owner and not hasattr(instance, i.name)]
