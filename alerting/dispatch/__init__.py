"""The pager dispatcher: turns the `alerts` topic into signed notifications that arrive once,
escalate when nobody answers and survive every failure of the receiving side.

The decisions (routing, quiet, escalation, retry policy, payloads) are pure functions in their own
modules; `service` is the imperative shell that wires them to Kafka, HTTP and the ledger.
"""
