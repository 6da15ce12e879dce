"""`crsmon ingest` against the real broker: real MLLP over TCP, real FHIR over HTTP.

Each test runs the ingest service (in a thread with its own event loop, or as the `crsmon
ingest` command) with topics of its own, talks to it as a gateway would, and reads what it
published back from Kafka.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.service import IngestService
from gateway.settings import IngestSettings
from kafka_client.topics import Topics
from tests.conftest import SAMPLES
from tests.support.kafka_io import read_until
from tests.support.processes import Service

VT, FS_CR = b"\x0b", b"\x1c\r"
TIMEOUT_S = 30


class RunningIngest:
    """An IngestService on its own event loop in a thread, so that tests can talk to it with
    plain blocking sockets, as a gateway does."""

    def __init__(self, settings: IngestSettings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ingest", daemon=True)
        self.thread.start()
        self.service: IngestService = self._run(self._create(settings))
        self.mllp_port, self.http_port = self._run(self.service.start())

    async def _create(self, settings: IngestSettings) -> IngestService:
        return IngestService(settings)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT_S)

    def stop(self) -> None:
        try:
            self._run(self.service.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT_S)
            self.loop.close()


def topics_for(unique: str) -> Topics:
    return replace(
        Topics(),
        vitals=f"vitals-{unique}",
        dead_letters=f"dead-letters-{unique}",
        clinical_events=f"clinical-events-{unique}",
    )


@pytest.fixture
def ingest(kafka, unique):
    running = RunningIngest(
        IngestSettings(broker=kafka.bootstrap, host="127.0.0.1", mllp_port=0, http_port=0, topics=topics_for(unique))
    )
    try:
        yield running
    finally:
        running.stop()


class Gateway:
    """One MLLP connection, as a monitor gateway keeps it open."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        self.buffer = b""

    def send(self, message: bytes, framing: bool = True) -> list[str]:
        """Send one message and return the segments of the ACK that answers it."""
        self.socket.sendall(VT + message + FS_CR if framing else message)
        while FS_CR not in self.buffer:
            chunk = self.socket.recv(65536)
            assert chunk, "the server closed the connection without an ACK"
            self.buffer += chunk
        frame, self.buffer = self.buffer.split(FS_CR, 1)
        assert frame.startswith(VT), frame
        return frame[1:].decode().rstrip("\r").split("\r")

    def close(self) -> None:
        self.socket.close()


def msa(ack: list[str]) -> list[str]:
    return next(segment for segment in ack if segment.startswith("MSA|")).split("|")


def post(port: int, path: str, body: bytes, content_type: str = "application/fhir+json"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def vitals_of(records: list[dict], patient_id: str) -> list[dict]:
    return [record for record in records if record.get("patient_id") == patient_id]


# --- HL7 v2 over MLLP ---------------------------------------------------------------------------

pytestmark = pytest.mark.kafka


def test_an_hl7_sample_over_mllp_is_acknowledged_and_published_keyed_by_patient(ingest, kafka) -> None:
    gateway = Gateway(ingest.mllp_port)
    try:
        ack = gateway.send(sample("ipf_pcd01_ihe_tf_E11_gateway_hr_abp_pap.hl7"))
    finally:
        gateway.close()
    assert msa(ack)[:3] == ["MSA", "AA", "12d15a9:11df9e61347:-7fee:30456965"]
    assert ack[0].split("|")[8] == "ACK^R01^ACK"
    [record] = read_until(
        kafka.bootstrap, ingest.service.settings.topics.vitals, lambda records: len(records) >= 1, timeout=TIMEOUT_S
    )
    assert record["_key"] == "AB60001"
    assert {
        key: record[key]
        for key in (
            "patient_id",
            "ts",
            "ward",
            "bed",
            "heart_rate",
            "systolic_bp",
            "diastolic_bp",
            "mean_arterial_pressure",
        )
    } == {
        "patient_id": "AB60001",
        "ts": "2008-12-11T14:45:00Z",
        "ward": "3 WEST ICU",
        "bed": "3001-1",
        "heart_rate": 60,
        "systolic_bp": 120,
        "diastolic_bp": 80,
        "mean_arterial_pressure": 92,
    }


def test_messages_on_one_connection_are_answered_in_turn_and_fahrenheit_arrives_in_celsius(ingest, kafka) -> None:
    gateway = Gateway(ingest.mllp_port)
    try:
        acks = [
            gateway.send(sample(name))
            for name in (
                "ipf_pcd01_ihe_tf_J2_bp.hl7",
                "ipf_continua_wan_thermometer_fahrenheit.hl7",
                "sll_t5_nist_pulseox_loinc_mdc.hl7",
            )
        ]
    finally:
        gateway.close()
    assert [msa(ack)[1] for ack in acks] == ["AA", "AA", "AA"]
    records = read_until(
        kafka.bootstrap, ingest.service.settings.topics.vitals, lambda records: len(records) >= 3, timeout=TIMEOUT_S
    )
    by_patient = {record["patient_id"]: record for record in records if "temperature" in record}
    assert by_patient["789567"]["temperature"] == pytest.approx(37.0)
    assert vitals_of(records, "HO2009001")[0]["heart_rate"] == 55


def test_a_broken_hl7_message_gets_ae_and_a_dead_letter_and_publishes_nothing(ingest, kafka) -> None:
    broken = sample("sll_t5_invalid_obx_missing_fields.hl7")
    gateway = Gateway(ingest.mllp_port)
    try:
        rejected = gateway.send(broken)
        empty_pid = gateway.send(sample("sll_t5_monitor_v23_empty_pid_nonstd_code.hl7"))
        accepted = gateway.send(sample("ipf_continua_wan_pulse_oximeter.hl7"))
    finally:
        gateway.close()
    assert msa(rejected)[:3] == ["MSA", "AE", "9879790003"]
    err = next(segment for segment in rejected if segment.startswith("ERR|")).split("|")
    assert err[4] == "E" and "OBX-3" in err[8]
    assert msa(empty_pid)[1] == "AE" and "PID-3" in msa(empty_pid)[3]
    assert msa(accepted)[1] == "AA"
    topics = ingest.service.settings.topics
    letters = read_until(kafka.bootstrap, topics.dead_letters, lambda records: len(records) >= 2, timeout=TIMEOUT_S)
    assert [letter["topic"] for letter in letters] == ["ingest:hl7v2", "ingest:hl7v2"]
    # Dead letters have no key (a rejected message may name no patient), so their order
    # across partitions is not kept: find each by its reason.
    [obx] = [letter for letter in letters if "OBX-3" in letter["reason"]]
    assert obx["payload"] == broken.decode()
    assert any("PID-3" in letter["reason"] for letter in letters)
    # The good message after the two bad ones is the only thing published.
    records = read_until(kafka.bootstrap, topics.vitals, lambda records: len(records) >= 1, timeout=TIMEOUT_S)
    assert [(record["patient_id"], record.get("spo2")) for record in records] == [("789567", 80.5)]


def test_a_lab_report_is_published_to_clinical_events_and_its_refused_results_dead_lettered(ingest, kafka) -> None:
    """The chemistry panel written for tests/test_gateway_labs.py: eight results crsmon takes go
    to clinical-events keyed by patient; a bad unit and two tests it does not take go, together,
    into one dead letter; the LIS gets AA with a warning for each."""
    report = (Path(__file__).parent / "clinical_messages" / "oru_r01_chemistry_and_cbc.hl7").read_bytes()
    gateway = Gateway(ingest.mllp_port)
    try:
        ack = gateway.send(report)
    finally:
        gateway.close()
    assert msa(ack)[:3] == ["MSA", "AA", "SQ25112506301201"]
    assert sum(segment.startswith("ERR|") and "|W|" in segment for segment in ack) == 3
    topics = ingest.service.settings.topics
    events = read_until(
        kafka.bootstrap, topics.clinical_events, lambda records: len(records) >= 8, timeout=TIMEOUT_S, quiet_for=1.0
    )
    assert sorted(event["test"] for event in events) == sorted(
        ["creatinine", "alt", "ldh", "crp", "ferritin", "platelets", "wbc", "neutrophils"]
    )
    assert {(event["_key"], event["type"], event["ts"]) for event in events} == {
        ("MRN-000123", "lab", "2026-11-25T10:40:00Z")
    }
    [letter] = read_until(
        kafka.bootstrap, topics.dead_letters, lambda records: len(records) >= 1, timeout=TIMEOUT_S, quiet_for=1.0
    )
    assert letter["topic"] == "ingest:hl7v2" and letter["payload"] == report.decode()
    assert all(code in letter["reason"] for code in ("1975-2", "2951-2", "718-7"))


def test_a_frame_without_its_start_byte_gets_ar_and_a_dead_letter_and_the_connection_goes_on(ingest, kafka) -> None:
    gateway = Gateway(ingest.mllp_port)
    try:
        unframed = gateway.send(b"MSH|^~\\&|no start block" + FS_CR, framing=False)
        after = gateway.send(sample("ipf_pcd01_ihe_tf_J2_bp.hl7"))
    finally:
        gateway.close()
    assert msa(unframed)[1] == "AR" and "<VT>" in msa(unframed)[3]
    assert msa(after)[1] == "AA"
    [letter] = read_until(
        kafka.bootstrap,
        ingest.service.settings.topics.dead_letters,
        lambda records: len(records) >= 1,
        timeout=TIMEOUT_S,
    )
    assert letter["payload"] == "MSH|^~\\&|no start block" and "<VT>" in letter["reason"]


# --- FHIR over HTTP ------------------------------------------------------------------------------


def test_a_fhir_observation_is_created_and_published(ingest, kafka) -> None:
    status, headers, outcome = post(
        ingest.http_port, "/fhir/Observation", sample("fhir_r4_observation-example-satO2.json")
    )
    assert status == 201 and headers["Content-Type"].startswith("application/fhir+json")
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"] == "published 1 VitalSigns holding 1 measurement"
    [record] = read_until(
        kafka.bootstrap, ingest.service.settings.topics.vitals, lambda records: len(records) >= 1, timeout=TIMEOUT_S
    )
    assert (record["_key"], record["spo2"], record["ts"]) == ("example", 95, "2014-12-05T08:30:10Z")


def test_a_fhir_transaction_bundle_is_published_as_one_vital_signs(ingest, kafka) -> None:
    status, _, outcome = post(
        ingest.http_port,
        "/fhir",
        sample("hl7_phd_bundle-example-1_pulseox_transaction.json"),
        content_type="application/json",
    )
    assert status == 200, outcome
    assert outcome["issue"][0]["diagnostics"] == "published 1 VitalSigns holding 2 measurements"
    [record] = read_until(
        kafka.bootstrap, ingest.service.settings.topics.vitals, lambda records: len(records) >= 1, timeout=TIMEOUT_S
    )
    assert (record["_key"], record["spo2"], record["heart_rate"]) == ("sisansarahId", 98, 47)


def test_a_fhir_observation_that_cannot_be_used_gets_an_operation_outcome_and_a_dead_letter(ingest, kafka) -> None:
    panel = sample("fhir_r4_observation-example-vitals-panel.json")
    status, _, outcome = post(ingest.http_port, "/fhir/Observation", panel)
    assert status == 422
    assert outcome["issue"][0]["severity"] == "error" and "hasMember" in outcome["issue"][0]["diagnostics"]
    dated = sample("fhir_r4_observation-example-heart-rate.json")
    status, _, outcome = post(ingest.http_port, "/fhir/Observation", dated)
    assert status == 422 and "no time of day" in outcome["issue"][0]["diagnostics"]
    letters = read_until(
        kafka.bootstrap,
        ingest.service.settings.topics.dead_letters,
        lambda records: len(records) >= 2,
        timeout=TIMEOUT_S,
    )
    assert [letter["topic"] for letter in letters] == ["ingest:fhir", "ingest:fhir"]
    [kept] = [letter for letter in letters if "hasMember" in letter["reason"]]
    assert json.loads(kept["payload"]) == json.loads(panel)


def test_the_wrong_endpoint_or_media_type_is_answered_with_what_to_do(ingest) -> None:
    status, _, outcome = post(
        ingest.http_port, "/fhir/Observation", sample("hl7_phd_bundle-example-1_pulseox_transaction.json")
    )
    assert status == 400 and "POST a Bundle to /fhir" in outcome["issue"][0]["diagnostics"]
    status, _, outcome = post(ingest.http_port, "/fhir", sample("fhir_r4_observation-example-satO2.json"))
    assert status == 400 and "/fhir/Observation" in outcome["issue"][0]["diagnostics"]
    status, _, outcome = post(
        ingest.http_port, "/fhir/Observation", b"heart_rate=80", content_type="application/x-www-form-urlencoded"
    )
    assert status == 415 and "application/fhir+json" in outcome["issue"][0]["diagnostics"]


def test_messages_larger_than_the_limit_are_refused_with_a_reason(kafka, unique) -> None:
    running = RunningIngest(
        IngestSettings(
            broker=kafka.bootstrap, mllp_port=0, http_port=0, max_message_bytes=4096, topics=topics_for(unique)
        )
    )
    try:
        status, _, outcome = post(
            running.http_port, "/fhir", sample("hl7_phd_bundle-example-1_pulseox_transaction.json")
        )
        gateway = Gateway(running.mllp_port)
        try:
            ack = gateway.send(b"MSH|^~\\&|" + b"x" * 5000)
            assert gateway.socket.recv(1) == b"", "the connection should be closed after an oversized frame"
        finally:
            gateway.close()
    finally:
        running.stop()
    assert status == 413 and "larger than the 4096 bytes" in outcome["issue"][0]["diagnostics"]
    assert msa(ack)[1] == "AR" and "larger than the 4096 bytes" in msa(ack)[3] + "".join(ack)
    letters = read_until(
        kafka.bootstrap, topics_for(unique).dead_letters, lambda records: len(records) >= 2, timeout=TIMEOUT_S
    )
    assert sorted(letter["topic"] for letter in letters) == ["ingest:fhir", "ingest:hl7v2"]


def test_metrics_count_outcomes_by_protocol_and_never_name_a_patient(ingest) -> None:
    gateway = Gateway(ingest.mllp_port)
    try:
        gateway.send(sample("ipf_pcd01_ihe_tf_J2_bp.hl7"))
        gateway.send(sample("sll_t5_invalid_obx_missing_fields.hl7"))
    finally:
        gateway.close()
    post(ingest.http_port, "/fhir/Observation", sample("fhir_r4_observation-example-satO2.json"))
    with urllib.request.urlopen(f"http://127.0.0.1:{ingest.http_port}/metrics", timeout=TIMEOUT_S) as response:
        text = response.read().decode()
    assert re.search(r'crsmon_ingest_messages_total\{outcome="accepted",protocol="hl7v2"\} [1-9]', text)
    assert re.search(r'crsmon_ingest_rejected_total\{protocol="hl7v2",reason="missing_field"\} [1-9]', text)
    assert re.search(r'crsmon_ingest_vitals_published_total\{protocol="fhir"\} [1-9]', text)
    for patient_id in ("789567", "HO2009001", "example"):
        assert patient_id not in text


# --- when Kafka cannot take a message -------------------------------------------------------------


def test_when_kafka_is_unreachable_senders_are_told_to_send_again() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        running = RunningIngest(
            IngestSettings(
                broker=nowhere, mllp_port=0, http_port=0, send_timeout_s=2.0, topics=topics_for("unreachable")
            )
        )
        try:
            gateway = Gateway(running.mllp_port)
            try:
                ack = gateway.send(sample("ipf_pcd01_ihe_tf_J2_bp.hl7"))
            finally:
                gateway.close()
            status, headers, outcome = post(
                running.http_port, "/fhir/Observation", sample("fhir_r4_observation-example-satO2.json")
            )
        finally:
            running.stop()
    assert msa(ack)[1] == "AR" and "send it again later" in msa(ack)[3] + "".join(ack)
    assert status == 503 and headers["Retry-After"] == "5"
    assert outcome["issue"][0]["code"] == "transient"


# --- the command -----------------------------------------------------------------------------------


def test_the_crsmon_ingest_command_serves_mllp_and_fhir(kafka, unique, worker_env, tmp_path: Path) -> None:
    service = Service(
        ["ingest", "--mllp-port", "0", "--http-port", "0", "--broker", kafka.bootstrap, "--timezone", "Europe/Berlin"],
        worker_env,
        tmp_path / "ingest.log",
    )
    try:
        service.wait_for_output("crsmon ingest: HL7 v2 over MLLP on", timeout=TIMEOUT_S)
        line = next(line for line in service.output().splitlines() if "crsmon ingest:" in line)
        mllp_port, http_port = (int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", line)[:2])
        gateway = Gateway(mllp_port)
        try:
            ack = gateway.send(sample("sll_t5_nist_pulseox_loinc_mdc.hl7"))
        finally:
            gateway.close()
        status, _, _ = post(http_port, "/fhir", sample("hl7_phd_bundle-example-1_pulseox_transaction.json"))
        assert msa(ack)[1] == "AA" and status == 200
        records = read_until(
            kafka.bootstrap, worker_env["CRSMON_TOPIC_VITALS"], lambda records: len(records) >= 2, timeout=TIMEOUT_S
        )
        nist = vitals_of(records, "HO2009001")[0]
        assert nist["ts"] == "2012-05-30T09:23:40Z"  # 11:23:40 without offset, in Europe/Berlin (CEST)
        assert vitals_of(records, "sisansarahId")[0]["spo2"] == 98
    finally:
        assert service.stop() == 0, service.output()
