"""The ward simulator: reproducible, contract-valid, on its cadences, with its artifacts, with CRS
courses that follow the clinical reference, and with a ground truth that the generated data bear out."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import orjson
import pytest

from monitor.wire import Alert, OxygenEvent, VitalSigns, decode_as, decode_input, encode
from simulator import ArtifactRates, Simulation, SimulationSettings
from simulator.crs import PRODUCTS, plan_crs
from simulator.files import InvalidSettings, load_settings

DAY = timedelta(days=1)
NO_ARTIFACTS = ArtifactRates().scaled(0)
CRSMON = str(__import__("pathlib").Path(sys.executable).with_name("crsmon"))


def lines_of(settings: SimulationSettings) -> list[bytes]:
    return [encode(message, drop_none=True) for message in Simulation(settings).events()]


def by_patient(messages) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for message in messages:
        grouped[message.patient_id].append(message)
    return grouped


def seconds_between(messages) -> np.ndarray:
    return np.diff([m.ts.timestamp() for m in messages])


@pytest.fixture(scope="module")
def clean_ward():
    """CRS-heavy ward without artifacts, so that every reading is the patient's."""
    simulation = Simulation(
        SimulationSettings(patients=40, days=3, seed=11, crs_share=0.6, deterioration_share=0.2, artifacts=NO_ARTIFACTS)
    )
    return simulation, list(simulation.events())


# -- reproducible and valid ------------------------------------------------------------------
def test_the_same_seed_gives_the_same_ward_and_another_seed_another():
    settings = SimulationSettings(patients=6, days=1, seed=5, crs_share=0.5)
    first = hashlib.sha256(b"".join(lines_of(settings))).hexdigest()
    again = hashlib.sha256(b"".join(lines_of(settings))).hexdigest()
    other = hashlib.sha256(b"".join(lines_of(settings.model_copy(update={"seed": 6})))).hexdigest()
    assert first == again
    assert first != other


def test_the_truth_document_reproduces_its_ward():
    simulation = Simulation(SimulationSettings(patients=5, days=1, seed=9, crs_share=0.6))
    document = orjson.loads(orjson.dumps(simulation.truth_document()))
    again = Simulation(load_settings(None, document["settings"]))
    assert [t.to_json() for t in again.truths] == document["patients"]


def test_every_line_is_contract_valid_and_time_ordered():
    settings = SimulationSettings(patients=12, days=1, seed=3, crs_share=0.5, deterioration_share=0.25)
    lines = lines_of(settings)
    decoded = [decode_input(line) for line in lines]  # raises InvalidMessage on any bad line
    assert [encode(m, drop_none=True) for m in decoded] == lines
    times = [m.ts for m in decoded]
    assert times == sorted(times)
    kinds = {getattr(m, "type", "vitals") for m in decoded}
    assert {"vitals", "therapy"} <= kinds


def test_invalid_settings_say_what_is_wrong():
    with pytest.raises(InvalidSettings, match="crs_share"):
        load_settings(None, {"crs_share": 0.8, "deterioration_share": 0.4})
    with pytest.raises(InvalidSettings, match="unknown products"):
        load_settings(None, {"product_mix": {"cilta-cel-like": 1.0}})
    with pytest.raises(InvalidSettings, match="numerics_interval_s"):
        load_settings(None, {"numerics_interval_s": 0})


# -- cadences --------------------------------------------------------------------------------
def sources(messages):
    numerics = [m for m in messages if isinstance(m, VitalSigns) and m.heart_rate is not None]
    cuff = [m for m in messages if isinstance(m, VitalSigns) and m.systolic_bp is not None]
    nurse = [m for m in messages if isinstance(m, VitalSigns) and m.temperature is not None]
    return numerics, cuff, nurse


@pytest.mark.parametrize("interval", [1, 15, 60])
def test_continuous_numerics_come_at_the_configured_interval(interval):
    settings = SimulationSettings(patients=3, days=0.25, seed=2, numerics_interval_s=interval, artifacts=NO_ARTIFACTS)
    for messages in by_patient(Simulation(settings).events()).values():
        numerics, _, _ = sources(messages)
        assert len(numerics) > 0.9 * 6 * 3600 / interval
        assert set(seconds_between(numerics)) == {float(interval)}


def test_nibp_and_nurse_rounds_keep_their_cycles(clean_ward):
    simulation, messages = clean_ward
    settings = simulation.settings
    allowed = {60.0 * m for m in (*settings.nibp_intervals_min, settings.nibp_escalated_interval_min)}
    escalated = 0
    for patient_messages in by_patient(messages).values():
        _, cuff, nurse = sources(patient_messages)
        cuff_steps = set(seconds_between(cuff))
        assert cuff_steps <= allowed
        escalated += 60.0 * settings.nibp_escalated_interval_min in cuff_steps
        nurse_steps = seconds_between(nurse)
        assert np.all(np.abs(nurse_steps - 3600) <= 600)  # hourly, give or take the nurse's 5 min
    assert escalated >= 0.5 * sum(t.kind != "stable" for t in simulation.truths)


# -- artifacts -------------------------------------------------------------------------------
RATES = ArtifactRates(
    spo2_probe_off=6.0,
    ecg_leads_off=4.0,
    heart_rate_spike=5.0,
    spo2_single_dip=5.0,
    motion=0.0,
    gap=2.0,
    monitor_off=0.0,
    nibp_implausible=0.05,
    nibp_failed=0.0,
    temperature_under_read=0.0,
)


@pytest.fixture(scope="module")
def artifact_ward():
    simulation = Simulation(
        SimulationSettings(patients=30, days=2, seed=21, crs_share=0.0, deterioration_share=0.0, artifacts=RATES)
    )
    return simulation, by_patient(simulation.events())


def near(observed: float, expected: float) -> bool:
    """Within four Poisson standard deviations (and 5 % for what overlaps and merges)."""
    return abs(observed - expected) <= 4 * np.sqrt(expected) + 0.05 * expected


def test_artifacts_come_at_their_configured_rates(artifact_ward):
    simulation, patients = artifact_ward
    days = sum((t.monitored_to - t.monitored_from) / DAY for t in simulation.truths)
    probe_off = leads_off = spikes = dips = gaps = implausible = cuffs = 0
    for messages in patients.values():
        numerics, cuff, _ = sources(messages)
        spo2 = np.array([m.spo2 for m in numerics])
        heart = np.array([m.heart_rate for m in numerics])
        probe_off += int(np.sum((spo2[1:] == 0) & (spo2[:-1] != 0)) + (spo2[0] == 0))
        leads_off += int(np.sum((heart[1:] == 0) & (heart[:-1] != 0)) + (heart[0] == 0))
        spikes += int(np.sum(heart >= 150))
        dips += int(np.sum((spo2 > 0) & (spo2 <= 80)))
        gaps += int(np.sum(seconds_between(numerics) > 60))
        implausible += sum(m.systolic_bp <= 75 for m in cuff)
        cuffs += len(cuff)
    assert near(probe_off, RATES.spo2_probe_off * days), (probe_off, days)
    assert near(leads_off, RATES.ecg_leads_off * days), (leads_off, days)
    assert near(spikes, RATES.heart_rate_spike * days), (spikes, days)
    assert near(dips, RATES.spo2_single_dip * days), (dips, days)
    assert near(gaps, RATES.gap * days), (gaps, days)
    assert near(implausible, RATES.nibp_implausible * cuffs), (implausible, cuffs)


def test_a_single_implausible_sample_is_single(artifact_ward):
    """80 → 190 → 80: a spike's neighbours are ordinary (two spikes may land side by side by
    chance, never a run)."""
    _, patients = artifact_ward
    single = spikes = 0
    for messages in patients.values():
        heart = np.array([m.heart_rate for m in sources(messages)[0]])
        high = heart >= 150
        spikes += int(high.sum())
        single += int(np.sum(high[1:-1] & ~high[:-2] & ~high[2:]))
        assert not np.any(high[2:] & high[1:-1] & high[:-2])
    assert spikes > 100 and single >= 0.9 * spikes


def test_a_probe_off_is_sent_as_zero_not_left_out(artifact_ward):
    _, patients = artifact_ward
    zeros = [m for messages in patients.values() for m in sources(messages)[0] if m.spo2 == 0]
    assert zeros and all(m.heart_rate > 0 for m in zeros[:50] if m.respiratory_rate)


# -- clinical courses ------------------------------------------------------------------------
def test_crs_onset_days_lie_inside_the_published_ranges(clean_ward):
    simulation, messages = clean_ward
    therapies = defaultdict(list)
    for m in messages:
        if getattr(m, "type", None) == "therapy":
            therapies[m.patient_id].append(m.ts)
    crs = [t for t in simulation.truths if t.kind == "crs"]
    assert {t.course for t in crs} == {"axi-cel-like", "tisa-cel-like", "teclistamab-like"}
    for truth in crs:
        doses = therapies[truth.patient_id]
        assert doses[0] == truth.therapy_at
        after_therapy = (truth.crs_onset_at - truth.therapy_at) / DAY
        if truth.course == "axi-cel-like":  # ZUMA-1: median day 2, range 1–12
            assert 1 <= after_therapy < 13
        elif truth.course == "tisa-cel-like":  # day 3–5 median; CRS after day 14 is rare
            assert 1 <= after_therapy < 14
        else:  # teclistamab: step-up doses on days 1, 4 and 7, CRS after one of them
            assert [(d - doses[0]) / DAY for d in doses] == [0.0, 3.0, 6.0][: len(doses)]
            last_dose = max(d for d in doses if d <= truth.crs_onset_at)
            assert timedelta(0) < truth.crs_onset_at - last_dose <= 3 * DAY


def test_crs_onsets_follow_the_labels_in_distribution():
    """Over many planned courses: axi-cel median day 2, tisa-cel day 3–5, teclistamab after one
    of its step-up doses, and severe CRS earlier than mild."""
    rng = np.random.default_rng(1)
    onsets: dict[str, list[float]] = defaultdict(list)
    by_grade: dict[bool, list[float]] = defaultdict(list)
    for _ in range(1500):
        for product in PRODUCTS:
            _, course = plan_crs(rng, product, 30 * 86_400.0, 0.5)
            days = (course.start - course.therapy_at) / 86_400.0
            onsets[product].append(days)
            if product == "axi-cel-like":
                by_grade[course.planned_grade >= 3].append(days)
    assert 1.7 <= np.median(onsets["axi-cel-like"]) <= 2.3
    assert 1.0 <= min(onsets["axi-cel-like"]) and max(onsets["axi-cel-like"]) <= 12.0
    assert 3.0 <= np.median(onsets["tisa-cel-like"]) <= 5.0
    assert max(onsets["tisa-cel-like"]) <= 14.0
    assert 0.0 < min(onsets["teclistamab-like"]) and max(onsets["teclistamab-like"]) <= 9.0
    assert np.median(by_grade[True]) < np.median(by_grade[False])


def test_crs_goes_fever_then_tachycardia_then_hypotension_or_hypoxia(clean_ward):
    simulation, messages = clean_ward
    patients = by_patient(messages)
    courses = [t for t in simulation.truths if t.kind == "crs"]
    assert sum(t.grade2_at is not None for t in courses) >= 5
    for truth in courses:
        numerics, cuff, nurse = sources(patients[truth.patient_id])
        onset = truth.crs_onset_at
        assert min(m.ts for m in nurse if m.temperature >= 38.0) == onset

        def heart(begin, end, percentile=50):
            return np.percentile([m.heart_rate for m in numerics if begin <= m.ts < end], percentile)

        before = heart(onset - timedelta(hours=6), onset)
        assert heart(onset, onset + timedelta(hours=6), 90) > before + 8  # fever's tachycardia
        organ = [m.ts for m in cuff if m.systolic_bp < 90 or m.mean_arterial_pressure < 65]
        organ += [m.ts for m in numerics if m.spo2 <= 93]
        if organ:
            assert min(organ) > onset
        if truth.grade2_at is not None:
            assert heart(truth.grade2_at - timedelta(hours=1), truth.grade2_at) > before + 5


def test_severe_courses_carry_the_events_their_grade_needs(clean_ward):
    simulation, messages = clean_ward
    patients = by_patient(messages)
    severe = [t for t in simulation.truths if t.max_grade >= 3 and t.kind == "crs"]
    assert severe
    for truth in severe:
        events = [m for m in patients[truth.patient_id] if hasattr(m, "type")]
        assert any(getattr(e, "count", 0) >= 1 for e in events) or any(
            isinstance(e, OxygenEvent) and e.device not in ("room_air", "nasal_cannula", "blow_by") for e in events
        )
        drugs = {e.drug for e in events if e.type == "medication"}
        assert "tocilizumab" in drugs and "corticosteroid" in drugs


def test_stable_patients_never_meet_crs_or_news2_red_criteria(clean_ward):
    simulation, messages = clean_ward
    patients = by_patient(messages)
    stable = [t for t in simulation.truths if t.kind == "stable"]
    assert stable
    for truth in stable:
        numerics, cuff, nurse = sources(patients[truth.patient_id])
        assert truth.max_grade == 0 and truth.urgent_at is None and truth.first_fever_at is None
        assert max(m.temperature for m in nurse) < 38.0
        assert min(m.systolic_bp for m in cuff) > 90
        assert max(m.heart_rate for m in numerics) < 131


# -- the ground truth, recomputed from the messages alone --------------------------------------
OXYGEN_GRADE = {
    "room_air": 0,
    "blow_by": 2,
    "nasal_cannula": 2,
    "high_flow_nasal_cannula": 3,
    "face_mask": 3,
    "non_rebreather": 3,
    "venturi": 3,
    "cpap": 4,
    "bipap": 4,
    "ventilator": 4,
}


def recompute(messages) -> dict:
    """ASTCT's provisional grade after each second of one patient's messages, written as a
    plain loop over the ASTCT table (docs/clinical-reference.md)."""
    latest: dict = {"device": "room_air", "flow": None, "pressors": 0, "lifted": False, "therapy": None}
    first_fever = grade2 = None
    top = 0
    for index, m in enumerate(messages):
        if isinstance(m, VitalSigns):
            latest.update(m.measurements())
            if m.temperature is not None and m.temperature >= 38.0 and first_fever is None:
                first_fever = m.ts
        elif m.type == "therapy":
            latest["therapy"] = m.ts
        elif m.type == "oxygen":
            latest["device"], latest["flow"] = m.device, m.flow_l_min
        elif m.type == "vasopressor":
            latest["pressors"] = m.count
        elif m.type == "medication":
            latest["lifted"] = True
        if index + 1 < len(messages) and messages[index + 1].ts == m.ts:
            continue  # grade once the whole second is in
        risk = latest["therapy"] is not None and m.ts - latest["therapy"] <= 14 * DAY
        fever = latest.get("temperature", 0) >= 38.0
        oxygen = OXYGEN_GRADE[latest["device"]]
        if latest["device"] == "nasal_cannula" and (latest["flow"] or 0) > 6:
            oxygen = 3
        if oxygen == 0 and latest.get("spo2", 100) <= 93:
            oxygen = 2
        pressure = {0: 0, 1: 3}.get(latest["pressors"], 4)
        if pressure == 0 and (latest.get("systolic_bp", 200) < 90 or latest.get("mean_arterial_pressure", 200) < 65):
            pressure = 2
        organ = max(oxygen, pressure)
        grade = organ if risk and (fever or latest["lifted"]) and organ >= 2 else int(risk and fever)
        if grade >= 2 and grade2 is None:
            grade2 = m.ts
        top = max(top, grade)
    return {"first_fever_at": first_fever, "grade2_at": grade2, "max_grade": top}


def test_the_ground_truth_is_what_the_messages_show(clean_ward):
    simulation, messages = clean_ward
    patients = by_patient(messages)
    grades = set()
    for truth in simulation.truths:
        seen = recompute(patients[truth.patient_id])
        assert seen == {
            "first_fever_at": truth.first_fever_at,
            "grade2_at": truth.grade2_at,
            "max_grade": truth.max_grade,
        }, truth.patient_id
        grades.add(truth.max_grade)
    assert {0, 1, 2} <= grades and grades & {3, 4}


def test_with_artifacts_the_onset_is_still_a_febrile_reading_of_the_patient():
    simulation = Simulation(
        SimulationSettings(
            patients=15, days=3, seed=4, crs_share=1.0, deterioration_share=0.0, artifacts=ArtifactRates().scaled(3)
        )
    )
    readings = {
        (m.patient_id, m.ts): m.temperature
        for m in simulation.events()
        if isinstance(m, VitalSigns) and m.temperature is not None
    }
    for truth in simulation.truths:
        assert readings[(truth.patient_id, truth.crs_onset_at)] >= 38.0


def test_non_crs_deterioration_reaches_a_news2_red_reading_after_it_starts(clean_ward):
    """Most do (a mild sepsis may stay below every single-parameter 3); none before it starts."""
    simulation, _ = clean_ward
    others = [t for t in simulation.truths if t.kind == "other_deterioration"]
    urgent = [t for t in others if t.urgent_at is not None]
    assert len(urgent) >= 0.7 * len(others) > 0
    for truth in urgent:
        assert truth.urgent_at > truth.deterioration_start


# -- the command line ------------------------------------------------------------------------
def test_simulate_pipes_into_replay(tmp_path):
    truth_path = tmp_path / "truth.json"
    simulate = subprocess.Popen(
        [
            CRSMON,
            "simulate",
            "--patients",
            "6",
            "--days",
            "2",
            "--seed",
            "3",
            "--crs-share",
            "0.5",
            "--truth",
            str(truth_path),
        ],
        stdout=subprocess.PIPE,
    )
    replay = subprocess.run([CRSMON, "replay"], stdin=simulate.stdout, capture_output=True, timeout=240)
    simulate.stdout.close()
    assert simulate.wait(timeout=60) == 0
    assert replay.returncode == 0, replay.stderr
    assert b"line " not in replay.stderr  # no invalid line reported
    alerts = [decode_as(Alert, line) for line in replay.stdout.splitlines()]
    truth = orjson.loads(truth_path.read_bytes())
    crs_patients = {p["patient_id"] for p in truth["patients"] if p["kind"] == "crs"}
    assert len(truth["patients"]) == 6 and len(crs_patients) == 3
    assert crs_patients <= {a.patient_id for a in alerts}


def test_simulate_refuses_bad_settings_with_a_reason():
    result = subprocess.run([CRSMON, "simulate", "--crs-share", "1.5"], capture_output=True, timeout=60)
    assert result.returncode == 2
    assert b"crs_share 1.5 must be between 0 and 1" in result.stderr
    assert result.stdout == b""


def test_simulate_writes_a_file_with_the_chosen_start(tmp_path):
    out = tmp_path / "ward.jsonl"
    result = subprocess.run(
        [
            CRSMON,
            "simulate",
            "--patients",
            "2",
            "--days",
            "0.1",
            "--start",
            "2027-01-05T06:00:00+01:00",
            "--numerics-interval",
            "5",
            "--out",
            str(out),
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    vitals = [m for m in map(decode_input, out.read_bytes().splitlines()) if isinstance(m, VitalSigns)]
    assert min(m.ts for m in vitals) >= datetime.fromisoformat("2027-01-05T05:00:00+00:00")
    assert max(m.ts for m in vitals) < datetime.fromisoformat("2027-01-05T07:24:00+00:00")


# -- activity: the merely busy (issue 12, outcome 3) -------------------------------------------
@pytest.fixture(scope="module")
def busy_ward():
    """Half the ward walks or does physiotherapy; clean data, so every reading is the patient's."""
    simulation = Simulation(SimulationSettings(patients=40, days=3, seed=13, busy_share=0.5, artifacts=NO_ARTIFACTS))
    return simulation, by_patient(simulation.events())


def test_busy_patients_are_their_share_of_the_cohort_stable_and_ill_alike(busy_ward):
    simulation, _ = busy_ward
    busy = [t for t in simulation.truths if t.busy]
    assert len(busy) == 20
    assert {t.kind for t in busy} >= {"stable", "crs"}
    assert all(t.bouts for t in busy if t.kind == "stable")
    assert not any(t.bouts for t in simulation.truths if not t.busy)


def test_bouts_rise_over_minutes_hold_20_to_30_minutes_and_settle_within_30(busy_ward):
    """CLINICAL.md, exertion: heart rate +25–30/min (cut only where a reading could reach 131)
    and respiratory rate +4/min (cut where one could reach 25), up over 2–5 minutes, back within
    10–30 minutes of rest; nothing else moves: no fever, pressure or SpO2 change. Read off the
    stable patients' course curves, which hold only daily life and bouts, and a walk is never
    within 15 minutes of a bout."""
    simulation, _ = busy_ward
    settings = simulation.settings
    checked = 0
    for patient in simulation.patients:
        if not patient.busy or patient.course.kind != "stable":
            continue
        course = patient.course
        for start, end, settled in course.bouts:
            heart, breaths = course.heart_rate, course.respiratory_rate
            rise = heart.at(end)
            assert 20 * 60 <= end - start <= 30 * 60 and 10 * 60 <= settled - end <= 30 * 60
            assert 25 <= rise <= 30 and 3.4 <= breaths.at(end) <= 4.0
            assert heart.at(start - 1) == pytest.approx(0) and breaths.at(start - 1) == pytest.approx(0)
            assert heart.at(start + 2 * 60) < rise <= heart.at(start + 5 * 60) + 1e-9
            assert heart.at(start + 5 * 60) == pytest.approx(rise) and heart.at(settled) == pytest.approx(0)
            assert 0 < heart.at((end + settled) / 2) < rise  # settling, not a step
            local = ((start / 3600 + settings.utc_offset_hours) % 24, (settled / 3600 + settings.utc_offset_hours) % 24)
            assert 8 <= local[0] and local[1] <= 20
            during = np.linspace(start, settled, 50)
            for name in ("fever", "temperature", "systolic", "spo2"):
                assert not np.any(getattr(course, name)(during)), name
            checked += 1
        full_days = [d for d in range(int(settings.days)) if patient.begin <= d * 86_400]
        for day in full_days:  # one bout in each slot of 08:00–20:00
            assert (
                sum(day * 86_400 <= s < (day + 1) * 86_400 for s, _, _ in course.bouts) == settings.busy_bouts_per_day
            )
    assert checked >= 30


def test_a_bout_shows_in_the_readings_as_exertion_not_deterioration(busy_ward):
    """What the monitor sends: heart rate up by about 25–30 and respiratory rate by about 4
    against the quarter of an hour before, SpO2 unchanged, back near rest once settled."""
    simulation, patients = busy_ward
    rises, breath_rises, spo2_changes, after = [], [], [], []
    for truth, patient in zip(simulation.truths, simulation.patients):
        numerics, _, _ = sources(patients[truth.patient_id])
        times = np.array([m.ts.timestamp() for m in numerics]) - simulation.settings.start.timestamp()
        heart = np.array([m.heart_rate for m in numerics])
        breaths = np.array([m.respiratory_rate for m in numerics])
        spo2 = np.array([m.spo2 for m in numerics])
        for start, end, settled in patient.course.bouts:
            rest = (times >= start - 15 * 60) & (times < start)
            effort = (times >= start + 5 * 60) & (times < end)
            recovered = (times >= settled) & (times < settled + 10 * 60)
            if not (rest.sum() >= 10 and effort.sum() >= 10 and recovered.sum() >= 5):
                continue
            rises.append(np.median(heart[effort]) - np.median(heart[rest]))
            breath_rises.append(np.median(breaths[effort]) - np.median(breaths[rest]))
            spo2_changes.append(np.median(spo2[effort]) - np.median(spo2[rest]))
            after.append(np.median(heart[recovered]) - np.median(heart[rest]))
    assert len(rises) >= 50
    assert 22 <= np.median(rises) <= 32 and min(rises) >= 15
    assert 3 <= np.median(breath_rises) <= 5
    assert np.all(np.abs(spo2_changes) <= 1.5)
    assert np.all(np.abs(after) <= 8)


def test_busy_stable_patients_stay_stable_and_ill_patients_rest_while_ill():
    """No NEWS2 single-parameter 3 and no fever in a stable patient who walks three times a
    day; no bout from an hour before an illness starts to its planned end."""
    simulation = Simulation(SimulationSettings(patients=60, days=3, seed=17, busy_share=1.0, artifacts=NO_ARTIFACTS))
    patients = by_patient(simulation.events())
    for truth in simulation.truths:
        assert truth.busy and (truth.bouts or truth.kind != "stable")
        if truth.kind == "stable":
            numerics, _, nurse = sources(patients[truth.patient_id])
            assert truth.urgent_at is None and truth.max_grade == 0 and truth.first_fever_at is None
            assert max(m.heart_rate for m in numerics) < 131
            assert max(m.respiratory_rate for m in numerics) < 25
        else:
            ill_end = truth.deterioration_end or truth.monitored_to
            for start, end in truth.bouts:
                assert end <= truth.deterioration_start - timedelta(hours=1) or start >= ill_end


def test_the_truth_lists_every_bout_and_the_same_seed_gives_the_same_bouts():
    settings = SimulationSettings(patients=8, days=2, seed=23, busy_share=0.5)
    first, again = Simulation(settings), Simulation(settings)
    for truth, patient in zip(first.truths, first.patients):
        assert [(s, e) for s, e in truth.bouts] == [
            (settings.start + timedelta(seconds=int(round(a))), settings.start + timedelta(seconds=int(round(b))))
            for a, b, _ in patient.course.bouts
        ]
        assert all(truth.monitored_from <= s < e <= truth.monitored_to for s, e in truth.bouts)
    assert [t.bouts for t in first.truths] == [t.bouts for t in again.truths]
    assert sum(len(t.bouts) for t in first.truths) > 0
    other = Simulation(settings.model_copy(update={"seed": 24}))
    assert [t.bouts for t in other.truths] != [t.bouts for t in first.truths]
    document = first.truth_document()["patients"]
    busy = next(p for p in document if p["bouts"])
    assert set(busy["bouts"][0]) == {"start", "end"} and busy["busy"] is True
    assert (
        hashlib.sha256(b"".join(lines_of(settings))).hexdigest()
        == hashlib.sha256(b"".join(lines_of(settings))).hexdigest()
    )


def test_activity_leaves_everyone_else_as_they_were():
    """Who is busy and what they do come from streams of their own: the patients who do not
    exercise send the same messages with or without activity on the ward."""
    quiet = SimulationSettings(patients=8, days=1, seed=29, busy_share=0.0)
    busy = Simulation(quiet.model_copy(update={"busy_share": 0.5}))
    idle = {p.patient_id for p in busy.patients if not p.busy}
    assert len(idle) == 4
    with_activity = by_patient(busy.events())
    without = by_patient(Simulation(quiet).events())
    for patient_id in idle:
        assert [encode(m) for m in with_activity[patient_id]] == [encode(m) for m in without[patient_id]]


def test_activity_settings_are_checked():
    with pytest.raises(InvalidSettings, match="busy_share"):
        load_settings(None, {"busy_share": 1.5})
    with pytest.raises(InvalidSettings, match="busy_bout_min"):
        load_settings(None, {"busy_bout_min": [30, 20]})
    with pytest.raises(InvalidSettings, match="must fit in its slot"):
        load_settings(None, {"busy_bouts_per_day": 20})
