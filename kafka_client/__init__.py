"""Kafka client plumbing that every crsmon process shares: topic names, TLS/SASL settings read
from the environment, the start-up login check, and a producer started on first use.

The worker (`streams/`), the pager dispatcher and the ward dashboard (`alerting/`), ingest and
the `crsmon` command all talk to the same brokers; this package is what they have in common
and nothing else. It imports aiokafka and the standard library — never Faust, never `monitor/`,
`streams/` or `alerting/` — so each room can use it without importing another
(tests/test_rooms.py keeps it so).
"""
