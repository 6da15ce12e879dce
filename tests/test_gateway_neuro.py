"""Neurological assessments through the gateway: the ICE score and ICANS findings, as HL7 v2 OBX
rows and FHIR R4 Observations, to the contract's `type: neuro` ClinicalEvents.

LOINC has no code for the ICE score or its items, so these messages use crsmon's code system
(https://crsmon.org/fhir/CodeSystem/icans; in HL7 v2, CWE.3 `99CRSMON`; docs/ingest.md). The
messages in tests/clinical_messages/ were written for this project (not copied from
/work/shared/samples, which has only vital signs): a nursing flowsheet's ORU^R01 with the five
items, the total and the four findings; a FHIR ICE panel (total with the items as components);
and a FHIR Bundle with the total and the findings as separate Observations. The assessment in
them is the contract's example: orientation 2 + naming 3 + commands 1 + writing 0 + attention 0
= ICE 6, awakening to voice.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway import acknowledge, decode_fhir, decode_oru
from gateway.neuro_assessments import ICANS_SYSTEM
from monitor.wire import IceItems, InvalidMessage, NeuroEvent, decode_input, encode

UTC = timezone.utc
MESSAGES = Path(__file__).parent / "clinical_messages"
FLOWSHEET = "oru_r01_icans_assessment.hl7"
ASSESSED_AT = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
ITEMS = IceItems(orientation=2, naming=3, commands=1, writing=0, attention=0)


def message(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def edited(old: str, new: str) -> bytes:
    raw = message(FLOWSHEET).decode()
    assert raw.count(old) == 1, old
    return raw.replace(old, new).encode()


def rejection(raw: bytes, decode=decode_oru) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        decode(raw)
    return caught.value


def panel() -> dict[str, Any]:
    return json.loads(message("fhir_r4_ice_panel.json"))


def component(document: dict[str, Any], code: str) -> dict[str, Any]:
    return next(part for part in document["component"] if part["code"]["coding"][0]["code"] == code)


# --- HL7 v2 -------------------------------------------------------------------------------------


def test_a_flowsheet_assessment_is_one_neuro_event_with_items_total_findings_and_who() -> None:
    decoded = decode_oru(message(FLOWSHEET))
    assert decoded.vitals == () and decoded.refused == () and decoded.skipped == ()
    [event] = decoded.events
    assert event == NeuroEvent(
        type="neuro",
        patient_id="MRN-000123",
        ts=ASSESSED_AT,
        ice=6,
        ice_items=ITEMS,
        arousal="voice",
        seizure="none",
        motor="none",
        cerebral_edema="none",
        by="rn-4411",
    )  # OBX-16's identifier, not the nurse's name


def test_the_event_as_published_is_what_the_worker_reads() -> None:
    [event] = decode_oru(message(FLOWSHEET)).events
    published = encode(event, drop_none=True)
    assert decode_input(published) == event
    # The contract's own example of an assessment with items, field for field.
    assert json.loads(published) == {
        "patient_id": "MRN-000123",
        "ts": "2026-11-26T20:00:00Z",
        "type": "neuro",
        "ice": 6,
        "ice_items": {"orientation": 2, "naming": 3, "commands": 1, "writing": 0, "attention": 0},
        "arousal": "voice",
        "seizure": "none",
        "motor": "none",
        "cerebral_edema": "none",
        "by": "rn-4411",
    }


def test_items_that_disagree_with_the_total_reject_an_assessment_that_is_all_the_message_holds() -> None:
    raw = edited("ice-score^ICE score^99CRSMON||6|", "ice-score^ICE score^99CRSMON||7|")
    problem = rejection(raw)
    assert problem.kind == "invalid_field"
    assert "ice 7 disagrees with its items, which add up to 6" in problem.reason
    assert "OBX #1" in problem.reason and "OBX #10" in problem.reason  # the whole assessment is named
    assert "MSA|AE|FS0000771" in acknowledge(raw, problem).decode()


def test_an_item_out_of_range_is_refused_with_its_range() -> None:
    problem = rejection(
        edited("ice-orientation^ICE orientation^99CRSMON||2|", "ice-orientation^ICE orientation^99CRSMON||5|")
    )
    assert "orientation" in problem.reason and "less than or equal to 4" in problem.reason


@pytest.mark.parametrize("word, read", [("voice", "voice"), ("Voice", "voice"), ("VIGOROUS", "vigorous")])
def test_findings_are_read_as_the_contracts_words(word: str, read: str) -> None:
    [event] = decode_oru(edited("||voice^Awakens to voice^99CRSMON|", f"||{word}^^99CRSMON|")).events
    assert event.arousal == read


def test_a_finding_that_is_not_a_contract_word_is_refused_with_the_words_accepted() -> None:
    problem = rejection(edited("||voice^Awakens to voice^99CRSMON|", "||drowsy^^99CRSMON|"))
    assert "'drowsy' is not one of alert, spontaneous, voice, touch, vigorous, unarousable" in problem.reason


def test_a_finding_without_a_value_is_left_out_and_the_rest_used() -> None:
    decoded = decode_oru(edited("||voice^Awakens to voice^99CRSMON|", "|||"))
    [event] = decoded.events
    assert event.arousal is None and event.ice == 6
    assert [skip.kind for skip in decoded.skipped] == ["no_value"]


def test_a_score_that_is_not_a_whole_number_is_refused() -> None:
    problem = rejection(edited("ice-naming^ICE naming^99CRSMON||3|", "ice-naming^ICE naming^99CRSMON||2.5|"))
    assert "must be a whole number of points, not 2.5" in problem.reason


def test_an_incomplete_set_of_items_is_refused_rather_than_guessed() -> None:
    raw = message(FLOWSHEET).decode().replace("ice-writing^ICE writing^99CRSMON", "ice-writing-x^ICE writing^99CRSMON")
    problem = rejection(raw.encode())
    assert "ice_items.writing is required" in problem.reason


def test_icans_codes_need_crsmons_code_system() -> None:
    """`arousal` or `motor` in some other local table could mean anything: not read."""
    raw = message(FLOWSHEET).decode().replace("^99CRSMON||", "^L||")
    problem = rejection(raw.encode())
    assert problem.kind == "no_vital_signs"


def test_a_bad_assessment_is_refused_while_a_lab_result_in_the_same_message_is_used() -> None:
    raw = edited("ice-score^ICE score^99CRSMON||6|", "ice-score^ICE score^99CRSMON||9|").decode()
    raw += "OBX|11|NM|1988-5^CRP^LN||210|mg/L|||||F|||20261126193000+0000\n"
    decoded = decode_oru(raw.encode())
    assert [(event.type, event.test) for event in decoded.events] == [("lab", "crp")]
    [refusal] = decoded.refused
    assert refusal.why.startswith("the neurological assessment is not used: ice 9 disagrees")


# --- FHIR R4 ------------------------------------------------------------------------------------


def test_an_ice_panel_gives_the_total_and_its_items() -> None:
    [event] = decode_fhir(message("fhir_r4_ice_panel.json")).events
    assert (event.ice, event.ice_items, event.ts, event.by) == (6, ITEMS, ASSESSED_AT, "rn-4411")
    assert event.arousal is None  # not charted in this panel: not assessed


def test_a_panel_with_items_only_gets_its_total_from_them() -> None:
    document = panel()
    del document["valueInteger"]
    [event] = decode_fhir(json.dumps(document).encode()).events
    assert event.ice == 6 and event.ice_items == ITEMS


def test_a_panel_whose_items_disagree_with_its_total_is_rejected() -> None:
    document = panel()
    component(document, "ice-attention")["valueInteger"] = 1
    problem = rejection(json.dumps(document).encode(), decode_fhir)
    assert "ice 6 disagrees with its items, which add up to 7" in problem.reason


def test_a_total_out_of_range_is_rejected() -> None:
    document = {**panel(), "valueInteger": 11}
    del document["component"]
    problem = rejection(json.dumps(document).encode(), decode_fhir)
    assert "ice 11" in problem.reason and "less than or equal to 10" in problem.reason


def test_separate_observations_of_one_moment_are_one_assessment_whatever_their_offsets() -> None:
    [event] = decode_fhir(message("fhir_r4_icans_bundle.json")).events
    # 21:00+01:00 is 20:00Z: the total and the four findings are one assessment.
    assert event == NeuroEvent(
        type="neuro",
        patient_id="MRN-000123",
        ts=ASSESSED_AT,
        ice=6,
        arousal="voice",
        seizure="none",
        motor="none",
        cerebral_edema="none",
        by="rn-4411",
    )


def test_assessments_at_different_moments_are_different_events() -> None:
    document = json.loads(message("fhir_r4_icans_bundle.json"))
    later = copy.deepcopy(document["entry"][0])
    later["resource"].update(id="ice-total-later", effectiveDateTime="2026-11-27T02:00:00Z", valueInteger=3)
    document["entry"].append(later)
    events = decode_fhir(json.dumps(document).encode()).events
    assert [(event.ts.hour, event.ice) for event in events] == [(20, 6), (2, 3)]


def test_a_finding_as_an_unknown_word_is_refused_with_the_accepted_words() -> None:
    document = json.loads(message("fhir_r4_icans_bundle.json"))
    document["entry"][4]["resource"]["valueCodeableConcept"] = {"coding": [{"system": ICANS_SYSTEM, "code": "mild"}]}
    problem = rejection(json.dumps(document).encode(), decode_fhir)
    assert "cerebral-edema" in problem.reason and "'mild' is not one of none, focal, diffuse" in problem.reason


def test_a_code_given_twice_at_one_moment_with_two_values_is_refused() -> None:
    document = json.loads(message("fhir_r4_icans_bundle.json"))
    again = copy.deepcopy(document["entry"][0])
    again["resource"].update(id="ice-total-again", valueInteger=8)
    document["entry"].append(again)
    problem = rejection(json.dumps(document).encode(), decode_fhir)
    assert "ice-score is given twice at one moment (6 and 8)" in problem.reason


def test_a_preliminary_assessment_is_skipped_with_a_warning() -> None:
    document = {**panel(), "status": "preliminary"}
    problem = rejection(json.dumps(document).encode(), decode_fhir)
    assert problem.kind == "no_vital_signs" and "status preliminary" in problem.reason
