"""The engine's findings as wire messages: PatientStatus and Alert.

Built without validation: every field comes from the engine's own typed state, and pydantic's
validation — even `model_construct`, which still walks every field for defaults — would cost
more than the rest of an engine step. `_built` sets exactly what `model_construct` sets, so
the objects serialise, compare and copy like any other; tests/test_engine_properties.py
checks that each one equals its validated twin.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from monitor.assessment import Assessment
from monitor.episodes import Change
from monitor.parameters import COUNT
from monitor.patient_state import Patient
from monitor.scores.news2 import COMPONENTS
from monitor.wire import Alert, CrsAssessment, News2, PatientStatus
from monitor.wire.vitals import MEASUREMENTS

_ALERT_ID_NAMESPACE = uuid.UUID("5b0c7f8e-3f0e-4d53-9f1e-6b1d2f7c9a10")


def alert_id_for(episode_id: str, change: int) -> str:
    """Derived from the episode and its change number, so reprocessing repeats the same id."""
    return str(uuid.uuid5(_ALERT_ID_NAMESPACE, f"{episode_id}#{change}"))


def _built(model: type, fields: dict) -> object:
    """An instance of a wire model from complete, correct fields (every field, by name)."""
    instance = model.__new__(model)
    setter = object.__setattr__
    setter(instance, "__dict__", fields)
    setter(instance, "__pydantic_fields_set__", set(fields))
    setter(instance, "__pydantic_extra__", None)
    setter(instance, "__pydantic_private__", None)
    return instance


def moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, timezone.utc)


def status_of(patient: Patient, a: Assessment, at: datetime) -> PatientStatus:
    value = patient.value
    return _built(PatientStatus, {
        "record": "status", "patient_id": patient.patient_id, "ward": patient.ward,
        "bed": patient.bed, "ts": at,
        "news2": _built(News2, {
            "score": a.news2_score, "band": a.news2_band, "complete": a.news2_complete,
            "components": dict(zip(COMPONENTS, a.news2_components)),
        }),
        "shock_index": a.shock_index, "qsofa": a.qsofa,
        "crs": _built(CrsAssessment, {
            "grade": a.grade, "fever": a.fever, "hypotension": a.hypotension > 0,
            "hypoxia": a.hypoxia > 0, "risk_period": a.risk_period,
        }),
        "latest": {MEASUREMENTS[i]: value[i] for i in range(COUNT) if value[i] is not None},
        "early_warning": a.early_warning,
    })


def alert_of(patient: Patient, rule: str, change: Change, a: Assessment, at: datetime) -> Alert:
    clinical = rule != "signal_loss"
    return _built(Alert, {
        "record": "alert", "alert_id": alert_id_for(change.episode_id, change.number),
        "episode_id": change.episode_id, "patient_id": patient.patient_id, "ward": patient.ward,
        "bed": patient.bed, "status": change.status, "severity": change.severity, "rule": rule,
        "crs_grade": change.grade if rule == "crs" else None,
        "news2_score": a.news2_score if clinical else None, "reasons": list(change.reasons),
        "observed_at": at, "emitted_at": None,
    })
