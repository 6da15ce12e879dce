"""What the bedside ICE form may chart: the form's body becomes the contract's `neuro` event, or is
refused with a message a nurse can act on. No broker: the checks come before Kafka."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from alerting.dashboard.assessment import AssessmentRefused, Charter
from alerting.dashboard.ward_view import WardView
from monitor.wire import decode_input, encode

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
ITEMS = {"orientation": 2, "naming": 3, "commands": 1, "writing": 0, "attention": 0}


@pytest.fixture
def charter() -> Charter:
    view = WardView(timedelta(hours=6), timedelta(hours=24))
    return Charter("127.0.0.1:1", "clinical-events", view)  # nothing listens: nothing is sent here


def refusal(charter: Charter, body: dict) -> str:
    with pytest.raises(AssessmentRefused) as refused:
        charter.event_of(body, NOW)
    assert refused.value.status == 400
    return refused.value.message


def test_the_five_items_become_a_neuro_event_with_their_total_as_the_worker_reads_it(charter) -> None:
    event = charter.event_of(
        {
            "patient_id": "MRN-1",
            "by": " rn-4411 ",
            "ice_items": ITEMS,
            "arousal": "voice",
            "seizure": "none",
            "motor": "none",
            "cerebral_edema": "none",
        },
        NOW,
    )
    # 2 + 3 + 1 + 0 + 0: the contract's own example (shared/CONTRACT.md), totalled by the model.
    assert (event.type, event.ice, event.by, event.ts) == ("neuro", 6, "rn-4411", NOW)
    # What goes to Kafka is read back by the worker's decoder as the same event.
    assert decode_input(encode(event, drop_none=True)) == event


def test_findings_left_blank_are_absent_not_normal(charter) -> None:
    event = charter.event_of({"patient_id": "MRN-1", "by": "rn", "arousal": "unarousable"}, NOW)
    assert event.ice is None and event.ice_items is None and event.seizure is None
    assert b"seizure" not in encode(event, drop_none=True)  # the contract: absent means not assessed


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"ice_items": {**ITEMS, "orientation": 5}},
            "ice_items.orientation 5: input should be less than or equal to 4",
        ),
        ({"ice_items": {**ITEMS, "naming": "3"}}, "ice_items.naming"),
        ({"ice_items": {**ITEMS, "commands": True}}, "ice_items.commands"),
        ({"ice_items": {"orientation": 4, "writing": 1}}, "naming, commands, attention not scored"),
        ({"arousal": "asleep"}, "arousal 'asleep'"),
        ({"seizure": "yes"}, "seizure 'yes'"),
        ({"cerebral_edema": "severe"}, "cerebral_edema 'severe'"),
        ({"ice": 4, "ice_items": ITEMS}, "unknown field(s) ice"),
        ({}, "nothing was assessed"),
        ({"ice_items": {}}, "nothing was assessed"),
    ],
)
def test_invalid_input_is_refused_with_what_is_wrong(charter, body, says) -> None:
    assert says in refusal(charter, {"patient_id": "MRN-1", "by": "rn-4411", **body})


@pytest.mark.parametrize("by", [None, "", "   ", "x" * 65, "rn\n4411"])
def test_the_person_charting_is_required(charter, by) -> None:
    assert "your name or initials" in refusal(charter, {"patient_id": "MRN-1", "by": by, "arousal": "alert"})


def test_the_patient_is_required(charter) -> None:
    assert "patient_id is required" in refusal(charter, {"by": "rn", "arousal": "alert"})


def test_a_patient_the_dashboard_does_not_follow_is_refused_before_kafka(charter) -> None:
    with pytest.raises(AssessmentRefused) as refused:
        asyncio.run(charter.chart({"patient_id": "MRN-404", "by": "rn", "arousal": "alert"}))
    assert refused.value.status == 404 and "does not monitor" in refused.value.message
