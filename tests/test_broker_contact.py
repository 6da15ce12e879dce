"""When the worker calls its broker unreachable, and what its outage report says
(streams/broker_contact.py); the whole path against a stopped broker is
tests/test_worker_broker_outage.py."""

from __future__ import annotations

from streams.broker_contact import BrokerContact, OutageLog
from streams.settings import WorkerSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unreachable_after_the_limit_without_an_answer_and_reachable_at_the_next() -> None:
    clock = Clock()
    contact = BrokerContact(10, clock)
    clock.now += 9.9
    assert contact.reachable() and contact.last_contact() == "never since the worker started"
    clock.now += 0.2
    assert not contact.reachable()  # a worker that never reached its broker is not ready either
    contact.heard()
    assert contact.reachable() and contact.silent_for() == 0
    clock.now += 10
    assert not contact.reachable() and contact.silent_for() == 10


def test_the_limit_is_never_shorter_than_two_and_a_half_heartbeats(monkeypatch) -> None:
    monkeypatch.setenv("CRSMON_SESSION_TIMEOUT_S", "60")  # heartbeats every 12 s
    assert WorkerSettings().broker_silence_limit_s == 30
    monkeypatch.setenv("CRSMON_SESSION_TIMEOUT_S", "6")
    assert WorkerSettings().broker_silence_limit_s == 10


def test_the_outage_report_counts_problems_since_the_broker_last_answered() -> None:
    clock, problems, lines = Clock(), [3], []
    contact = BrokerContact(10, clock)
    contact.heard()
    outage = OutageLog(
        contact,
        "kafka:9092",
        lambda: problems[0],
        lambda *a: lines.append(("warning", a[0] % a[1:])),
        lambda *a: lines.append(("info", a[0] % a[1:])),
    )
    outage.report()
    assert lines == []
    problems[0] = 250
    clock.now += 12
    outage.report()
    problems[0] = 400
    clock.now += 5
    outage.report()
    contact.heard()
    outage.report()
    assert [level for level, _ in lines] == ["warning", "warning", "info"]
    assert "kafka:9092 unreachable for 12 s" in lines[0][1] and "247 Kafka client errors since" in lines[0][1]
    assert "unreachable for 17 s" in lines[1][1] and "397 Kafka client errors since" in lines[1][1]
    assert "answers again, after at least 17 s" in lines[2][1]
    outage.report()
    assert len(lines) == 3
