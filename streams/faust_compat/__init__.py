"""Everything of crsmon that reaches into private parts of Faust, aiokafka or pydantic, fenced
in one package and checked against pinned versions.

Why: the worker is fast and loses no records because it works inside Faust's consumer
bookkeeping and aiokafka's fetcher, where no public API reaches. Private names change without
notice in any release. So: they are used only here (and pydantic's in monitor/wire/trusted.py,
which the clinical core may not import from streams/); `internals.py` lists every one, with
where and why; pyproject.toml pins the exact versions they were checked on, and
requirements.lock pins the whole environment (`make install`, CI and the Dockerfile install
from it); importing this package fails at once if a class lost one of them;
tests/test_faust_compat.py checks every one, on classes and on live instances. An upgrade is:
bump the pin, run that test, read the changelog for each name below.

Checked on faust-streaming 0.15.3 (mode-streaming 0.7.1), aiokafka 0.14.0, pydantic 2.14.4.
Since: all of these are relied on from crsmon 0.1.0, the release these versions were pinned
with; `_fetch_records` and the fetcher's `_records` since the rebalance race was found
(lost_records.py), `_fetch_max_wait_ms` since the fetch-wait stall (kafka_transport.py);
`_client` since /readyz had to tell a broker outage (issue 19).

Each module, the internals it uses, and why:

- `batch_lane.py`: `faust.streams._current_event`; Consumer `_wait_next_records`, `_add_gap`,
  `perform_seek`, `_to_message`, `_read_offset`, `_committed_offset`, `_acked`, `_acked_index`,
  `_n_acked`, `_commit_every`, `_buffered_partitions`, `scheduler`; App
  `consumer_generation_id`, `flow_control`. Why: takes input records a fetched batch at a time
  past Faust's 80-110 µs per-message path, and acknowledges them in Faust's own bookkeeping so
  that Faust commits them.
- `kafka_transport.py`: `AIOKafkaConsumerThread._fetch_records`, `_create_worker_consumer`;
  `Consumer._new_consumer_thread`; aiokafka `AIOKafkaConsumer._fetch_max_wait_ms`, `_client`
  (its `send` wrapped). Why: a short fetch wait (Faust hard-codes 1.5 s), closes the rebalance
  race that dropped fetched records, and notes every broker answer (streams/broker_contact.py).
- `fetch_positions.py`: Consumer `_thread`, `AIOKafkaConsumerThread._ensure_consumer`; aiokafka
  `AIOKafkaConsumer._fetcher`, `Fetcher._subscriptions`, `Fetcher._records`,
  `Assignment.state_value`/`active`, `TopicPartitionState.position`/`has_valid_position`; an
  agent's `channel.queue`. Why: what the lost-records watchdog (streams/lost_records.py)
  compares with what the worker took.
- `patient_table.py`: `faust.Table.partition_for_key`, `on_key_set`, `on_key_del` (overridden);
  `Collection._sensor_on_set`, `_sensor_on_del`. Why: a table write lands on the partition of
  the record being taken; its changelog message goes to the producer from the writer, not
  through Faust's buffer that a commit waits to see empty.
- kafka_client/broker_login.py: aiokafka `aiokafka.conn.create_conn` (a module function aiokafka
  does not document). Why: the start-up login check: one connection, one request, the broker's
  own answer to SASL/TLS.
- monitor/wire/trusted.py: pydantic `BaseModel` slots `__dict__`, `__pydantic_fields_set__`,
  `__pydantic_extra__`, `__pydantic_private__`. Why: outputs the engine builds from values
  already valid skip validation.

Everything else in streams/ uses Faust's public API; a deliberate private access outside this
package is marked `# noqa: SLF001` where it happens.
"""

from streams.faust_compat.internals import missing_on_classes

_MISSING = missing_on_classes()
if _MISSING:
    # The worker works inside these; with one renamed it must not run (it would lose records
    # or stall silently). See the docstring for what each is for.
    raise RuntimeError(
        "this faust-streaming/aiokafka lacks "
        + ", ".join(_MISSING)
        + ": streams/faust_compat/ needs updating (pins: pyproject.toml)"
    )
