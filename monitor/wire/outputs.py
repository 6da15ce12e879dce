"""What the processor publishes: PatientStatus, Alert and DeadLetter; and Acknowledgement,
which people publish back about alerts."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.wire.timestamps import Timestamp
from monitor.wire.vitals import PatientId

News2Band = Literal["low", "low_medium", "medium", "high"]
Severity = Literal["critical", "high", "medium", "low"]
AlertStatus = Literal["firing", "updated", "resolved"]

SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class News2(_Wire):
    score: int
    band: News2Band
    complete: bool
    components: dict[str, int]


class CrsAssessment(_Wire):
    grade: int
    fever: bool
    hypotension: bool
    hypoxia: bool
    risk_period: bool


def _absent(value: object) -> bool:
    return value is None


class LabValue(_Wire):
    """The latest result of one test, in its canonical unit (monitor/catalogue.py).

    Fields beyond these three are kept, not dropped: the worker extends an entry with optional
    parts (issue 20: a CTCAE `grade`, a `fold_change`, a `note`), and a reader that re-publishes
    or shows the status (the dashboard) passes on what it was sent, typed or not yet typed. An
    entry without them serialises as before."""

    model_config = ConfigDict(extra="allow", frozen=True)

    value: float
    unit: str
    at: Timestamp
    #: Lab context (optional, issue 20; monitor/organs/): the CTCAE v5 grade of bilirubin, ALT,
    #: AST and platelets (0 within the local limit); for CRP, ferritin and IL-6 the fold change
    #: since therapy and the doubling time (h) of the current rise; a note such as "expected
    #: after tocilizumab". Left out of the JSON where they do not apply, so that an entry
    #: without them serialises as before (and as a reader received it).
    grade: int | None = Field(None, exclude_if=_absent)
    fold_change: float | None = Field(None, exclude_if=_absent)
    doubling_h: float | None = Field(None, exclude_if=_absent)
    note: str | None = Field(None, exclude_if=_absent)


class KidneyAssessment(_Wire):
    """The KDIGO 2012 stage by creatinine (no urine output), against the patient's baseline."""

    aki_stage: int
    creatinine: float | None = None
    baseline: float | None = None


class RiskContext(_Wire):
    """m-EASIX at therapy start (Pennisi, Blood Adv 2021): a risk context, never an alarm.
    `at` is the time of the newest result it was computed from."""

    m_easix: float
    at: Timestamp


class IcansAssessment(_Wire):
    """The provisional ASTCT 2019 ICANS grade from the neurological assessment in force."""

    grade: int
    ice: int | None = None
    assessed_at: Timestamp
    #: Extension (issue 21): true while a patient in the ICANS watch is overdue for the next
    #: assessment; absent otherwise.
    overdue: bool | None = None


class PatientStatus(_Wire):
    """Emitted when an assessment changes, and at least once a minute while vitals flow."""

    record: Literal["status"] = "status"
    patient_id: PatientId
    ward: str | None = None
    bed: str | None = None
    ts: Timestamp
    news2: News2
    shock_index: float | None = None
    qsofa: int | None = None
    crs: CrsAssessment
    latest: dict[str, float]
    #: Added in issue 3 (optional): trends say a febrile patient in the CRS risk period is
    #: heading for grade 2 (docs/clinical-reference.md, "Early warning").
    early_warning: bool | None = None
    #: Extensions (issues 20 and 21), present once the patient has the matching events.
    icans: IcansAssessment | None = None
    kidney: KidneyAssessment | None = None
    labs: dict[str, LabValue] | None = None
    #: Extension (issue 20), present once LDH, CRP and platelets before therapy give m-EASIX.
    risk: RiskContext | None = None


class Alert(_Wire):
    """One state change of one deterioration episode.

    `emitted_at` is None inside the engine, which is a pure function of event time; the
    publishing shell stamps it with `stamped()` at the moment it publishes.
    """

    record: Literal["alert"] = "alert"
    alert_id: str
    episode_id: str
    patient_id: PatientId
    ward: str | None = None
    bed: str | None = None
    status: AlertStatus
    severity: Severity
    rule: str
    crs_grade: int | None = None
    news2_score: int | None = None
    reasons: list[str]
    observed_at: Timestamp
    emitted_at: Timestamp | None = None

    def stamped(self, now: datetime) -> "Alert":
        """This alert as published at `now`."""
        return self.model_copy(update={"emitted_at": now})


class Acknowledgement(_Wire):
    """A person has seen an episode: stops re-notification until its severity changes."""

    record: Literal["ack"] = "ack"
    episode_id: str
    patient_id: PatientId
    ts: Timestamp
    by: str
    source: str | None = None


class DeadLetter(_Wire):
    """Input that broke the contract, kept with its reason so nothing is silently dropped."""

    record: Literal["dead_letter"] = "dead_letter"
    topic: str
    partition: int | None = None
    offset: int | None = None
    reason: str
    payload: str
    received_at: Timestamp
    #: The original message's size in bytes and its SHA-256 (hex), so that a payload cut to
    #: `PAYLOAD_KEPT` bytes can still be matched with the message on its topic.
    payload_bytes: int | None = None
    payload_sha256: str | None = None
    payload_truncated: bool = False
