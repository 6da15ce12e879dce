"""HL7 v2 ORU^R01 to VitalSigns, on every real-world sample in tests/samples/ (see SOURCES.md).

The expected values were read off the sample messages by hand; where a sample shows a quirk of
real gateways (a Fahrenheit thermometer, an empty PID, OBX-3 codes that contradict their text,
times without an offset) the test says what crsmon does with it and why.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import acknowledge, decode_oru
from monitor.wire import InvalidMessage
from tests.conftest import SAMPLES

UTC = timezone.utc
HL7_SAMPLES = sorted(SAMPLES.glob("*.hl7"))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def edited(name: str, old: bytes, new: bytes) -> bytes:
    """A sample with one piece of text replaced in memory (the files stay as published)."""
    raw = sample(name)
    assert raw.count(old) == 1, f"{old!r} is not unique in {name}"
    return raw.replace(old, new)


def rejection(raw: bytes) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        decode_oru(raw)
    return caught.value


def only(raw: bytes, **kwargs):
    decoded = decode_oru(raw, **kwargs)
    assert len(decoded.vitals) == 1, decoded.vitals
    return decoded.vitals[0], decoded


def skipped_kinds(decoded) -> list[tuple[str, str]]:
    return [(skip.where.split(" (")[0], skip.kind) for skip in decoded.skipped]


# --- each sample --------------------------------------------------------------------------------


def test_continua_pulse_oximeter_gives_spo2_and_leaves_the_pleth_waveform_out() -> None:
    vitals, decoded = only(sample("ipf_continua_wan_pulse_oximeter.hl7"))
    assert vitals.patient_id == "789567"  # PID-3 CX.1; the trailing space is in CX.5
    assert vitals.spo2 == 80.5
    assert vitals.measurements() == {"spo2": 80.5}
    assert vitals.ts == datetime(2009, 7, 15, 7, 7, 7, tzinfo=UTC)  # OBX-14 +0000
    assert vitals.source == "AcmeInc"
    assert vitals.ward is None and vitals.bed is None  # no PV1
    assert skipped_kinds(decoded) == [("OBX #3", "not_used")]  # 150452 MDC_PULS_OXIM_PLETH (NA)


def test_continua_thermometer_in_fahrenheit_is_converted_to_celsius() -> None:
    vitals, _ = only(sample("ipf_continua_wan_thermometer_fahrenheit.hl7"))
    assert vitals.patient_id == "789567"
    assert vitals.temperature == pytest.approx(37.0)  # 98.6 °F, 188424 MDC_TEMP_ORAL, 266560 MDC_DIM_FAHR
    assert vitals.measurements().keys() == {"temperature"}
    assert vitals.ts == datetime(2009, 7, 15, 7, 7, 7, tzinfo=UTC)


def test_gateway_message_with_ucum_units_gives_ecg_heart_rate_and_arterial_pressure() -> None:
    vitals, decoded = only(sample("ipf_pcd01_ihe_tf_E11_gateway_hr_abp_pap.hl7"))
    assert vitals.patient_id == "AB60001"
    assert (vitals.heart_rate, vitals.systolic_bp, vitals.diastolic_bp, vitals.mean_arterial_pressure) == (
        60,
        120,
        80,
        92,
    )
    assert vitals.spo2 is None and vitals.temperature is None
    assert (vitals.ward, vitals.bed) == ("3 WEST ICU", "3001-1")  # PV1-3 point of care^room^bed
    # No OBX-14 anywhere: OBR-7 20081211144500, and neither it nor MSH-7 has an offset, so the
    # configured default zone (UTC unless set) places it.
    assert vitals.ts == datetime(2008, 12, 11, 14, 45, tzinfo=UTC)
    assert skipped_kinds(decoded) == [
        ("OBX #2", "not_used"),  # 148065 PVC count
        ("OBX #7", "not_used"),
        ("OBX #8", "not_used"),
        ("OBX #9", "not_used"),  # PAP
        ("OBX #6", "superseded"),  # 149522 invasive pulse rate, behind the ECG heart rate
    ]


def test_an_offset_less_time_is_placed_in_the_configured_zone() -> None:
    vitals, _ = only(sample("ipf_pcd01_ihe_tf_E11_gateway_hr_abp_pap.hl7"), default_zone=ZoneInfo("America/New_York"))
    assert vitals.ts == datetime(2008, 12, 11, 19, 45, tzinfo=UTC)  # 14:45 EST = UTC-5


def test_an_offset_less_time_takes_the_offset_of_msh7_when_it_has_one() -> None:
    raw = edited(
        "ipf_pcd01_ihe_tf_E11_gateway_hr_abp_pap.hl7", b"|||20081211144500||ORU", b"|||20081211144500+0100||ORU"
    )
    vitals, _ = only(raw, default_zone=ZoneInfo("America/New_York"))
    assert vitals.ts == datetime(2008, 12, 11, 13, 45, tzinfo=UTC)


def test_ihe_j2_noninvasive_blood_pressure_takes_its_time_from_the_parent_row() -> None:
    vitals, decoded = only(sample("ipf_pcd01_ihe_tf_J2_bp.hl7"))
    assert vitals.patient_id == "789567"
    assert (vitals.systolic_bp, vitals.diastolic_bp, vitals.mean_arterial_pressure) == (120, 80, 100)
    # OBX 1.0.1.1-3 have no OBX-14; their parent 1.0.1 (150020 MDC_PRESS_BLD_NONINV) has +0500.
    assert vitals.ts == datetime(2009, 8, 13, 4, 57, 15, tzinfo=UTC)
    assert decoded.skipped == ()  # device and group rows hold no value and are not worth a note


def test_edge_cases_use_only_valid_codes_and_used_statuses_and_keep_two_moments_apart() -> None:
    decoded = decode_oru(sample("ipf_pcd01_maximum_request_edgecases.hl7"))
    first, second = decoded.vitals
    assert first.patient_id == second.patient_id == "111222333444"
    assert first.ward == "B1" and first.bed is None
    # Systolic 140 (status C, corrected) has its own OBX-14, ten seconds after the group's.
    assert first.measurements() == {"systolic_bp": 140}
    assert first.ts == datetime(2009, 8, 13, 4, 57, 25, tzinfo=UTC)
    # Mean 100 (status F) has no OBX-14 and takes its parent 1.0.1's.
    assert second.measurements() == {"mean_arterial_pressure": 100}
    assert second.ts == datetime(2009, 8, 13, 4, 57, 15, tzinfo=UTC)
    assert skipped_kinds(decoded) == [
        ("OBX #1", "not_used"),  # 528391 device profile with a stray value
        ("OBX #4", "not_final"),  # diastolic 70 with status D (deleted)
        # OBR 2: codes 1500212/1500232 are not MDC codes, though their text names NIBP ones
        ("OBX #8", "code_mismatch"),
        ("OBX #9", "code_mismatch"),
        ("OBX #10", "code_mismatch"),
    ]
    assert "1500212" in str(decoded.skipped[2]) and "150021" in str(decoded.skipped[2])
    assert "status D (deleted)" in str(decoded.skipped[1])


def test_nist_pulse_rate_coded_in_loinc_with_mdc_alternate() -> None:
    vitals, decoded = only(sample("sll_t5_nist_pulseox_loinc_mdc.hl7"))
    assert vitals.patient_id == "HO2009001"
    assert vitals.measurements() == {"heart_rate": 55}  # 8889-8 / 149530, {beats}/min
    assert (vitals.ward, vitals.bed) == ("ICU", "2-23")
    assert vitals.source == "SendingApplication"
    assert vitals.ts == datetime(2012, 5, 30, 11, 23, 40, tzinfo=UTC)  # OBX-14 without offset
    assert decoded.skipped == ()


def test_the_configured_zone_is_applied_with_its_daylight_saving_offset() -> None:
    vitals, _ = only(sample("sll_t5_nist_pulseox_loinc_mdc.hl7"), default_zone=ZoneInfo("Europe/Berlin"))
    assert vitals.ts == datetime(2012, 5, 30, 9, 23, 40, tzinfo=UTC)  # CEST, UTC+2


def test_the_deliberately_invalid_obx_is_rejected_with_a_reason() -> None:
    rejected = rejection(sample("sll_t5_invalid_obx_missing_fields.hl7"))
    assert rejected.kind == "missing_field"
    assert "OBX-3" in rejected.reason and "OBX #1" in rejected.reason


def test_the_v23_message_with_an_empty_pid_is_rejected_with_a_reason() -> None:
    rejected = rejection(sample("sll_t5_monitor_v23_empty_pid_nonstd_code.hl7"))
    assert rejected.kind == "no_patient"
    assert "PID-3" in rejected.reason and "empty" in rejected.reason


def test_the_v23_message_reads_its_reference_id_coded_heart_rate_once_it_names_a_patient() -> None:
    raw = edited("sll_t5_monitor_v23_empty_pid_nonstd_code.hl7", b"\rPID|\r", b"\rPID|||MRN-77\r")
    vitals, _ = only(raw)
    assert vitals.patient_id == "MRN-77"
    # OBX-3 is 1^MDC_ECG_HEART_RATE^MDC and OBX-6 1^MDC_DIM_BEAT_PER_MIN^MDC: read by reference id.
    assert vitals.measurements() == {"heart_rate": 80}
    assert (vitals.ward, vitals.bed) == ("Monitor", None)
    assert vitals.ts == datetime(2015, 3, 3, 15, 14, 35, tzinfo=UTC)


@pytest.mark.parametrize("path", HL7_SAMPLES, ids=lambda path: path.stem)
def test_every_sample_either_decodes_or_is_rejected_with_a_reason(path) -> None:
    try:
        decoded = decode_oru(path.read_bytes())
    except InvalidMessage as error:
        assert error.reason and error.kind
        ack = acknowledge(path.read_bytes(), error)
        assert b"\rMSA|AE|" in ack and b"\rERR|" in ack
    else:
        assert decoded.vitals
        assert b"\rMSA|AA|" in acknowledge(path.read_bytes(), None, decoded.warnings())


# --- what is rejected and why ---------------------------------------------------------------


def test_a_fahrenheit_reading_outside_the_contract_bounds_is_rejected_naming_the_obx() -> None:
    raw = edited("ipf_continua_wan_thermometer_fahrenheit.hl7", b"|98.6|", b"|134.0|")
    rejected = rejection(raw)
    assert rejected.kind == "out_of_bounds"
    assert "OBX #2" in rejected.reason and "temperature 56.67 outside 20–45 °C" in rejected.reason


def test_a_unit_that_does_not_fit_the_measurement_is_rejected() -> None:
    raw = edited("sll_t5_nist_pulseox_loinc_mdc.hl7", b"{beats}/min^beats per minute^UCUM", b"mm[Hg]^mm[Hg]^UCUM")
    rejected = rejection(raw)
    assert rejected.kind == "unit" and "mm[Hg]" in rejected.reason and "OBX-6" in rejected.reason


def test_a_missing_unit_is_rejected() -> None:
    raw = edited("ipf_continua_wan_pulse_oximeter.hl7", b"|80.5|262688^MDC_DIM_PERCENT^MDC|", b"|80.5||")
    with pytest.raises(InvalidMessage, match="no unit in OBX-6"):
        decode_oru(raw)


def test_a_value_that_is_not_a_number_is_rejected() -> None:
    raw = edited("ipf_continua_wan_pulse_oximeter.hl7", b"|80.5|", b"|eighty|")
    with pytest.raises(InvalidMessage, match="'eighty' in OBX-5 is not a number"):
        decode_oru(raw)


def test_a_time_to_the_day_only_is_rejected() -> None:
    raw = edited("ipf_continua_wan_thermometer_fahrenheit.hl7", b"|R|||20090715070707+0000", b"|R|||20090715")
    rejected = rejection(raw)
    assert rejected.kind == "timestamp" and "to the minute" in rejected.reason


def test_a_message_other_than_oru_r01_is_rejected_and_answered_ar() -> None:
    raw = edited("sll_t5_nist_pulseox_loinc_mdc.hl7", b"ORU^R01^ORU_R01", b"ADT^A01^ADT_A01")
    rejected = rejection(raw)
    assert rejected.kind == "unsupported_message" and "ADT^A01" in rejected.reason
    assert b"\rMSA|AR|9879790003|" in acknowledge(raw, rejected)


def test_text_that_is_not_hl7_is_rejected_and_answered_ar_without_a_control_id() -> None:
    rejected = rejection(b'{"patient_id": "MRN-1"}')
    assert rejected.kind == "not_hl7"
    ack = acknowledge(b'{"patient_id": "MRN-1"}', rejected)
    assert ack.startswith(b"MSH|^~\\&|crsmon|") and b"\rMSA|AR||" in ack


def test_a_device_no_reading_value_is_skipped_not_taken_as_a_measurement() -> None:
    raw = edited("ipf_continua_wan_pulse_oximeter.hl7", b"|80.5|", b"|8388607|")
    rejected = rejection(raw)
    assert rejected.kind == "no_vital_signs" and "no reading" in rejected.reason


def test_line_feeds_between_segments_are_accepted() -> None:
    vitals, _ = only(sample("ipf_pcd01_ihe_tf_J2_bp.hl7").replace(b"\r", b"\r\n"))
    assert vitals.systolic_bp == 120


def test_two_moments_of_one_patient_are_two_vital_signs_and_one_moment_is_one() -> None:
    raw = (
        b"MSH|^~\\&|GW||||202611231800+0000||ORU^R01|7|P|2.6\r"
        b"PID|||MRN-5\r"
        b"OBR|1||||||202611231800+0000\r"
        b"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|90|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r"
        b"OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|95|262688^MDC_DIM_PERCENT^MDC|||||R\r"
        b"OBX|3|NM|151562^MDC_RESP_RATE^MDC|1.3.1.1|22|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||202611231801+0000\r"
    )
    first, second = decode_oru(raw).vitals
    assert first.measurements() == {"heart_rate": 90, "spo2": 95}
    assert first.ts == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert second.measurements() == {"respiratory_rate": 22}
    assert second.ts == datetime(2026, 11, 23, 18, 1, tzinfo=UTC)


# --- acknowledgements ---------------------------------------------------------------------------


def test_an_accepted_message_is_answered_aa_with_its_control_id() -> None:
    raw = sample("ipf_pcd01_ihe_tf_J2_bp.hl7")
    ack = acknowledge(raw, None).decode()
    msh, msa = ack.rstrip("\r").split("\r")
    assert msh.split("|")[8] == "ACK^R01^ACK" and msh.split("|")[4] == "AcmeInc^ACDE48234567ABCD^EUI-64"
    assert msa == "MSA|AA|MSGID1234"


def test_a_rejection_is_answered_ae_with_the_reason_in_msa3_and_err() -> None:
    raw = sample("sll_t5_invalid_obx_missing_fields.hl7")
    rejected = rejection(raw)
    segments = acknowledge(raw, rejected).decode().rstrip("\r").split("\r")
    msa, err = segments[1].split("|"), segments[2].split("|")
    assert msa[:3] == ["MSA", "AE", "9879790003"] and msa[3].startswith("OBX #1")
    assert err[3] == "101^Required field missing^HL70357" and err[4] == "E"
    assert "OBX-3" in err[8]


def test_skipped_values_a_sender_should_know_about_come_back_as_warnings() -> None:
    raw = sample("ipf_pcd01_maximum_request_edgecases.hl7")
    decoded = decode_oru(raw)
    segments = acknowledge(raw, None, decoded.warnings()).decode().rstrip("\r").split("\r")
    assert segments[1] == "MSA|AA|MSGID1234"
    warnings = [segment for segment in segments if segment.startswith("ERR|")]
    assert len(warnings) == 4  # D status and three code mismatches; not the unused device row
    assert all(warning.split("|")[4] == "W" for warning in warnings)


def test_reason_text_is_escaped_in_the_ack() -> None:
    ack = acknowledge(b"garbage", InvalidMessage("a|b^c", "not_hl7")).decode()
    assert "MSA|AR||a\\F\\b\\S\\c" in ack


# --- properties -------------------------------------------------------------------------------

SAMPLE_BYTES = [path.read_bytes() for path in HL7_SAMPLES]
HL7_ALPHABET = b"|^~\\&\r\n0123456789.+-MSHPIDOBXRV1 aZ\x0b\x1c"


@st.composite
def mutated_samples(draw) -> bytes:
    """A real sample with a few bytes cut out or HL7-ish bytes put in: near misses reach far
    deeper into the codec than random bytes, which fail at MSH."""
    raw = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        if draw(st.booleans()):
            del raw[at : at + draw(st.integers(1, 6))]
        else:
            raw[at:at] = draw(
                st.binary(min_size=1, max_size=4).map(
                    lambda chunk: bytes(HL7_ALPHABET[byte % len(HL7_ALPHABET)] for byte in chunk)
                )
            )
    return bytes(raw)


def _only_the_documented_error(raw: bytes) -> None:
    try:
        decoded = decode_oru(raw)
    except InvalidMessage as error:
        assert error.reason
        ack = acknowledge(raw, error)
        assert b"\rMSA|A" in ack and (b"\rMSA|AE|" in ack or b"\rMSA|AR|" in ack)
    else:
        assert decoded.vitals
        assert b"\rMSA|AA|" in acknowledge(raw, None, decoded.warnings())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_invalid_message(raw: bytes) -> None:
    _only_the_documented_error(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_near_miss_messages_raise_nothing_but_invalid_message(raw: bytes) -> None:
    _only_the_documented_error(raw)
