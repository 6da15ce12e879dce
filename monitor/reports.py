"""The engine's findings as wire messages: PatientStatus and Alert.

Built without validation (monitor/wire/trusted.py): every field comes from the engine's own
typed state, and pydantic's validation — even `model_construct`, which still walks every field
for defaults — would cost more than the rest of an engine step. tests/test_engine_properties.py
checks that each one equals its validated twin.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from monitor.assessment import Assessment
from monitor.catalogue import CATALOGUE
from monitor.config import EngineConfig
from monitor.episodes import Change
from monitor.kidney import KidneyStage
from monitor.organs.ctcae import ctcae_grade
from monitor.organs.easix import EASIX_TESTS, easix_at_therapy
from monitor.organs.inflammation import INFLAMMATION_TESTS, inflammation_trend
from monitor.patient_state import Patient
from monitor.rules.registry import GRADED_RULES, TECHNICAL_RULES
from monitor.scores.news2 import COMPONENTS
from monitor.wire import (
    Alert,
    CrsAssessment,
    IcansAssessment,
    KidneyAssessment,
    LabValue,
    News2,
    PatientStatus,
    RiskContext,
)
from monitor.wire.trusted import trusted
from monitor.wire.vitals import MEASUREMENTS

_ALERT_ID_NAMESPACE = uuid.UUID("5b0c7f8e-3f0e-4d53-9f1e-6b1d2f7c9a10")


def alert_id_for(episode_id: str, change: int) -> str:
    """Derived from the episode and its change number, so reprocessing repeats the same id."""
    return str(uuid.uuid5(_ALERT_ID_NAMESPACE, f"{episode_id}#{change}"))


_CRS_FIELDS = ("grade", "fever", "hypotension", "hypoxia", "risk_period")


def moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, timezone.utc)


def status_of(
    patient: Patient, a: Assessment, at: datetime, config: EngineConfig, icans_overdue: bool = False
) -> PatientStatus:
    """The status; its NEWS2 and CRS parts are frozen models, reused while they do not change
    (a stable patient's every-minute status then costs one object, not three). `icans_overdue`:
    the patient's next neurological assessment is overdue (the engine knows the configuration)."""
    value = patient.value
    news_key = (a.news2_components, a.news2_band, a.news2_complete)
    crs_key = (a.grade, a.fever, a.hypotension > 0, a.hypoxia > 0, a.risk_period)
    parts = patient.status_parts
    if parts and parts[0] == news_key:
        news = parts[1]
    else:
        news = trusted(
            News2,
            {
                "score": a.news2_score,
                "band": a.news2_band,
                "complete": a.news2_complete,
                "components": dict(zip(COMPONENTS, a.news2_components)),
            },
        )
    if parts and parts[2] == crs_key:
        crs = parts[3]
    else:
        crs = trusted(CrsAssessment, dict(zip(_CRS_FIELDS, crs_key)))
    patient.status_parts = (news_key, news, crs_key, crs)
    return trusted(
        PatientStatus,
        {
            "record": "status",
            "patient_id": patient.patient_id,
            "ward": patient.ward,
            "bed": patient.bed,
            "ts": at,
            "news2": news,
            "shock_index": a.shock_index,
            "qsofa": a.qsofa,
            "crs": crs,
            "latest": dict(zip(MEASUREMENTS, value))
            if None not in value
            else {name: number for name, number in zip(MEASUREMENTS, value) if number is not None},
            "early_warning": a.early_warning,
            "icans": None if patient.neuro is None else icans_of(patient, icans_overdue),
            "kidney": None if patient.kidney is None else kidney_of(patient.kidney),
            **lab_parts_of(patient, config),
        },
    )


def kidney_of(kidney: KidneyStage) -> KidneyAssessment:
    """The status's `kidney`: the latest creatinine's KDIGO stage and what it was measured
    against. Absent (None) until a creatinine has an earlier one within the baseline window."""
    return trusted(
        KidneyAssessment, {"aki_stage": kidney.stage, "creatinine": kidney.creatinine, "baseline": kidney.baseline}
    )


def icans_of(patient: Patient, overdue: bool) -> IcansAssessment:
    """The status's `icans`: the grade of the assessment in force, its ICE and time, and
    `overdue` (an extension) only while the next assessment is overdue (monitor/neuro_watch.py)."""
    neuro = patient.neuro
    assert neuro is not None
    return trusted(
        IcansAssessment,
        {
            "grade": neuro.grade.grade,
            "ice": neuro.current.ice,
            "assessed_at": moment(neuro.assessed_at),
            "overdue": True if overdue else None,
        },
    )


def lab_parts_of(patient: Patient, config: EngineConfig) -> dict[str, Any]:
    """The status's `labs` and `risk`, reused while what they are read from has not changed (a
    lab patient's every-minute status would otherwise redo each trend: ≈ 0.8 ms with a full
    history of every test); when a result comes, only its test's entry is read again."""
    labs = patient.labs
    if labs is None:
        return {"labs": None, "risk": None}
    key = (labs.revision, patient.therapy_at, patient.tocilizumab_at)
    parts = patient.lab_parts
    if not parts or parts[0] != key:
        read = parts[3] if parts else LabsRead()
        parts = patient.lab_parts = (key, labs_of(patient, config, read), risk_of(patient, config, read), read)
    # a dict of its own for each status (its values are frozen models, shared as News2 is)
    return {"labs": dict(parts[1]), "risk": parts[2]}


#: (test, canonical unit) of every lab test, in the order a status lists them.
_LABS_IN_DISPLAY_ORDER = tuple((entry.name, entry.unit) for entry in CATALOGUE.in_display_order("lab"))


class LabsRead:
    """Each test's status entry, and the risk, with what they were read from: a panel's eight
    results sent one by one rebuilt every entry for each (36 entries, and m-EASIX eight times,
    for eight results), which made a lab result cost the worker three vital signs (issue 20)."""

    __slots__ = ("entries", "risk")

    def __init__(self) -> None:
        #: test -> ((the revision its results last changed at, therapy, tocilizumab), entry)
        self.entries: dict[str, tuple[tuple, LabValue]] = {}
        self.risk: tuple[tuple, RiskContext | None] | None = None


def labs_of(patient: Patient, config: EngineConfig, read: LabsRead | None = None) -> dict[str, LabValue]:
    """The status's `labs`: the latest result of each test, in the catalogue's display order,
    with its context (monitor/organs/): a CTCAE grade, an inflammation trend since therapy.
    An entry is read from its own test's results, the therapy and tocilizumab alone: with
    `read`, those unchanged since it was built are taken from there."""
    labs = patient.labs
    assert labs is not None
    latest = {}
    changes = labs.changes()
    for name, unit in _LABS_IN_DISPLAY_ORDER:
        changed = changes.get(name)
        if changed is None:
            continue
        source = (changed, patient.therapy_at, patient.tocilizumab_at)
        if read is not None:
            known = read.entries.get(name)
            if known is not None and known[0] == source:
                latest[name] = known[1]
                continue
        value = _lab_entry(patient, name, unit, config)
        if value is None:
            continue
        if read is not None:
            read.entries[name] = (source, value)
        latest[name] = value
    return latest


def _lab_entry(patient: Patient, test: str, unit: str, config: EngineConfig) -> LabValue | None:
    labs = patient.labs
    assert labs is not None
    result = labs.latest(test)
    if result is None:
        return None
    trend = None
    if test in INFLAMMATION_TESTS:
        trend = inflammation_trend(labs, test, result.at, patient.therapy_at, patient.tocilizumab_at, config)
    return trusted(
        LabValue,
        {
            "value": result.value,
            "unit": unit,
            "at": moment(result.at),
            "grade": ctcae_grade(test, result.value, config),
            "fold_change": None if trend is None else trend.fold_change,
            "doubling_h": None if trend is None else trend.doubling_h,
            "note": None if trend is None else trend.note,
        },
    )


def risk_of(patient: Patient, config: EngineConfig, read: LabsRead | None = None) -> RiskContext | None:
    """The status's `risk`: m-EASIX at therapy start, once its three results are there (with
    `read`: reused while they and the therapy are unchanged)."""
    labs = patient.labs
    assert labs is not None
    changes = labs.changes()
    source = (*(changes.get(test) for test in EASIX_TESTS), patient.therapy_at)
    if read is not None and read.risk is not None and read.risk[0] == source:
        return read.risk[1]
    easix = easix_at_therapy(labs, patient.therapy_at, config)
    risk = None if easix is None else trusted(RiskContext, {"m_easix": easix.m_easix, "at": moment(easix.at)})
    if read is not None:
        read.risk = (source, risk)
    return risk


def alert_of(patient: Patient, rule: str, change: Change, a: Assessment, at: datetime) -> Alert:
    clinical = rule not in TECHNICAL_RULES  # monitor/rules/registry.py
    return trusted(
        Alert,
        {
            "record": "alert",
            "alert_id": alert_id_for(change.episode_id, change.number),
            "episode_id": change.episode_id,
            "patient_id": patient.patient_id,
            "ward": patient.ward,
            "bed": patient.bed,
            "status": change.status,
            "severity": change.severity,
            "rule": rule,
            "crs_grade": change.grade if rule in GRADED_RULES else None,
            "news2_score": a.news2_score if clinical else None,
            "reasons": list(change.reasons),
            "observed_at": at,
            "emitted_at": None,
        },
    )
