"""A patient's neurological part: the bedside assessment in force and the patient's own best ICE.

Why a part of its own, beside the vital-sign window and the lab history: assessments are charted
by people every 8–12 hours, and what the ICANS rule reads of them is not a series but three
facts — the latest assessment (a newer one replaces the older: ASTCT grades the patient as now
assessed), when it was made (an overdue assessment is a finding of its own), and the best ICE
the patient has scored since the therapy, because a fall from the patient's own best is the
earliest sign (handwriting goes first, CARTOX) and is what "new" confusion means to NEWS2.

Stored with the patient's state (monitor/patient_state.py) under the header key `neuro` as
`[[at, ice, arousal, seizure, motor, cerebral_edema], best_ice, best_at, first_at]`, written only for a
patient who has had an assessment, so every other patient's bytes are as they were.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.grading.icans import IcansGrade, grade_icans


class NeuroAssessment(NamedTuple):
    """One assessment as graded: who charted it is not kept (the grade does not depend on it,
    and the state holds no more identifiers than it needs)."""

    at: float  # event time, seconds since the epoch
    ice: int | None
    arousal: str | None
    seizure: str | None
    motor: str | None
    cerebral_edema: str | None

    def graded(self) -> IcansGrade:
        return grade_icans(
            ice=self.ice,
            arousal=self.arousal,
            seizure=self.seizure,
            motor=self.motor,
            cerebral_edema=self.cerebral_edema,
        )


class NeuroState:
    """The assessment in force, its grade, and the best ICE since the latest therapy (and when
    it was first reached), with the time of the first ICE since then."""

    __slots__ = ("current", "grade", "best_ice", "best_at", "first_at", "moments", "moments_for")

    def __init__(
        self, current: NeuroAssessment, best_ice: int | None, best_at: float | None, first_at: float | None
    ) -> None:
        self.current = current
        #: Graded once per assessment: the rule reads it at every step of the patient.
        self.grade = current.graded()
        self.best_ice = best_ice
        self.best_at = best_at
        #: The first ICE scored since the therapy: whether an earlier score exists to tell a
        #: confusion known before from a new one (`acvpu`).
        self.first_at = first_at
        #: Derived, never stored: the watch's moments (monitor/neuro_watch.py) and the state
        #: they were computed for. The engine reads them several times a step; they change only
        #: with an assessment or a therapy.
        self.moments: tuple[float | None, float | None] = (None, None)
        self.moments_for: tuple | None = None

    @classmethod
    def first(cls, assessment: NeuroAssessment, therapy_at: float | None) -> "NeuroState":
        state = cls(assessment, None, None, None)
        state._note_best(assessment, therapy_at)
        return state

    @property
    def assessed_at(self) -> float:
        """When the latest assessment was made: what the overdue check counts from."""
        return self.current.at

    def add(self, assessment: NeuroAssessment, therapy_at: float | None) -> bool:
        """Take one assessment; True when it is now the one in force. An older one that comes
        late still counts towards the best ICE, but does not replace a newer one; one at the
        same moment replaces it (a corrected charting)."""
        self._note_best(assessment, therapy_at)
        if assessment.at < self.current.at:
            return False
        self.current = assessment
        self.grade = assessment.graded()
        return True

    def best_since(self, therapy_at: float | None) -> tuple[int, float] | None:
        """The best ICE since `therapy_at` and when it was (the first time it was reached);
        None when no ICE has been scored since. A best from before a newer therapy is stale."""
        if self.best_ice is None or self.best_at is None or (therapy_at is not None and self.best_at < therapy_at):
            return None
        return self.best_ice, self.best_at

    def _note_best(self, assessment: NeuroAssessment, therapy_at: float | None) -> None:
        if assessment.ice is None or (therapy_at is not None and assessment.at < therapy_at):
            return
        best = self.best_since(therapy_at)
        if best is None:
            self.best_ice, self.best_at, self.first_at = assessment.ice, assessment.at, assessment.at
            return
        if assessment.ice > best[0] or (assessment.ice == best[0] and assessment.at < best[1]):
            self.best_ice, self.best_at = assessment.ice, assessment.at
        if self.first_at is None or assessment.at < self.first_at:
            self.first_at = assessment.at

    # -- NEWS2 -----------------------------------------------------------------------------
    def acvpu(self, therapy_at: float | None) -> str | None:
        """The assessment in force as an ACVPU reading for NEWS2, or None when it says nothing
        of consciousness (docs/clinical-reference.md, "ICANS", a judgement):

        - arousal to voice → V; to touch or only vigorous touch → P; unarousable → U;
        - otherwise an ICE below 10 that is new or worse — below the best the patient scored
          earlier since the therapy (10 for most), or the first ICE since the therapy — is new
          confusion (C): RCP 2017 counts new or worsening confusion, and a confusion not known
          to be old as new;
        - otherwise ICE 10, or an alert or spontaneously waking patient whose ICE is not new
          or worse, is A.
        """
        current = self.current
        arousal = current.arousal
        if arousal == "voice":
            return "V"
        if arousal in ("touch", "vigorous"):
            return "P"
        if arousal == "unarousable":
            return "U"
        ice = current.ice
        if ice is not None and ice < 10:
            return "C" if self._new_or_worse(therapy_at) else "A"
        if ice == 10 or arousal in ("alert", "spontaneous"):
            return "A"
        return None

    def _new_or_worse(self, therapy_at: float | None) -> bool:
        """Whether the ICE in force is below every earlier score's best since the therapy, or
        the first since it. The best is kept at the first time it was reached, so a best at the
        moment in force means no earlier score matched it: then only a first score is new."""
        best = self.best_since(therapy_at)
        current = self.current
        if best is None or current.ice is None:
            return False  # an ICE from before the therapy: nothing since to compare with
        ice, at = best
        if at < current.at:
            return current.ice < ice
        return self.first_at == current.at

    # -- bytes -----------------------------------------------------------------------------
    def as_list(self) -> list:
        return [list(self.current), self.best_ice, self.best_at, self.first_at]

    @classmethod
    def from_list(cls, items: list) -> "NeuroState":
        current, best_ice, best_at, first_at = items
        return cls(NeuroAssessment(*current), best_ice, best_at, first_at)
