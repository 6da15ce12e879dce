"""NEWS2's own response levels as a floor under the deterioration warning, once a repeat
observation confirms them.

The warning is scored once an hour and needs two hourly evaluations to open: right for a
slide over hours, too slow for a patient who crashes between two hours on a continuous
monitor (NEWS2 9 at 10:05 would wait until past noon). The floor closes that gap: while NEWS2
is at least `deterioration_news2_high_floor` (7, RCP: emergency response) the warning is at
least high, and at least medium from `deterioration_news2_medium_floor` (6, RCP: urgent
clinical review) — from the moment a repeat observation confirms the score.

Confirmed means: an observation set at least `deterioration_news2_confirm_s` (5 minutes)
after the first one that scored this high, with every step in between scoring as high. A
continuous monitor confirms within five minutes, as the NEWS2 rule's own persistence does; an
hourly chart confirms at the next hour's set, because a value carried forward is not a
repeat measurement. That is what keeps the floor affordable on ICU records charted hourly
(docs/deterioration-model.md has the figures).

The high floor ends as soon as NEWS2 is below 7: the alert falls back to medium, a change of
severity rather than a new page. The medium floor ends only once NEWS2 has stayed below 6 for
`deterioration_news2_release_s` (an hour, as the hourly warning's own hysteresis), so that a
score wobbling at the threshold on a monitor does not page again and again; on hourly charting
that is the next hour's set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.scores.news2 import TEMPERATURE

if TYPE_CHECKING:  # the patient's state holds this module's Floors
    from monitor.assessment import Assessment
    from monitor.patient_state import Patient


class Floors:
    """One patient's floors (high first), each the time of the first step at or above it,
    whether a repeat observation confirmed it, and the time of the first step below it since
    it was confirmed. Stored with the patient as one flat list, [since, confirmed, below_since]
    per floor (`as_list`, `from_list`): the bytes patient state format 3 has always had."""

    __slots__ = ("since", "confirmed", "below_since")

    def __init__(self, floors: int) -> None:
        self.since: list[float | None] = [None] * floors
        self.confirmed: list[bool] = [False] * floors
        self.below_since: list[float | None] = [None] * floors

    def idle(self) -> bool:
        """Nothing pending nor held: the patient needs no floors kept."""
        return (
            all(since is None for since in self.since)
            and not any(self.confirmed)
            and all(below is None for below in self.below_since)
        )

    def as_list(self) -> list:
        return [item for floor in zip(self.since, self.confirmed, self.below_since) for item in floor]

    @classmethod
    def from_list(cls, items: list) -> "Floors":
        if len(items) % 3:
            raise ValueError(f"NEWS2 floors of {len(items)} items, not 3 per floor")
        floors = cls(len(items) // 3)
        floors.since, floors.confirmed, floors.below_since = (list(items[0::3]), list(items[1::3]), list(items[2::3]))
        return floors


class ConfirmedNews2:
    """The floors, per patient in `patient.news2_floor`: for each floor (high first) the time
    of the first step at or above it, whether a repeat observation confirmed it, and the time
    of the first step below it since."""

    def __init__(self, config) -> None:
        # (threshold, severity, how long below ends it): high falls back at once (to the
        # medium floor, or the warning's own level); medium holds for the release time
        self.floors = tuple(
            floor
            for floor in (
                (int(config.deterioration_news2_high_floor), "high", 0.0),
                (int(config.deterioration_news2_medium_floor), "medium", float(config.deterioration_news2_release_s)),
            )
            if floor[0] > 0
        )
        self.confirm_s = float(config.deterioration_news2_confirm_s)
        self.fever_in_risk_period = bool(config.deterioration_counts_fever_in_risk_period)

    def score_of(self, a: Assessment) -> int:
        """NEWS2 as the floors read it: in a CRS risk period without its temperature points
        (unless configured otherwise), because the ASTCT grade owns the fever there — a
        grade-1 fever of 39.1 °C with a respiratory rate of 21 and a pulse of 111 is NEWS2 7,
        and CRS grade 1 by policy, not an emergency."""
        if a.risk_period and not self.fever_in_risk_period:
            return a.news2_score - a.news2_components[TEMPERATURE]
        return a.news2_score

    def observe(self, patient: Patient, at: float, news2: int, new_set: bool) -> None:
        """Follow the patient's NEWS2 at a step; `new_set`: the step is an observation set."""
        state = patient.news2_floor
        if state is None:
            if all(news2 < threshold for threshold, _, _ in self.floors):
                return  # the usual case: nothing to remember
            state = patient.news2_floor = Floors(len(self.floors))
        for index, (threshold, _, release_s) in enumerate(self.floors):
            since, confirmed, below_since = (state.since[index], state.confirmed[index], state.below_since[index])
            if news2 >= threshold:
                if since is None:
                    since = at
                elif not confirmed and new_set and at - since >= self.confirm_s:
                    confirmed = True
                below_since = None
            elif not confirmed:
                since = None
            else:
                if below_since is None:
                    below_since = at
                if at - below_since >= release_s:
                    since, confirmed, below_since = None, False, None
            state.since[index], state.confirmed[index], state.below_since[index] = (since, confirmed, below_since)
        if state.idle():
            patient.news2_floor = None

    def releases(self, patient: Patient, at: float) -> bool:
        """Whether a step at `at` would end a floor by time alone: a confirmed floor whose
        score has stayed below it for its release time. Every other change of the floors needs
        a new NEWS2 score or a new observation set; this one has no deadline of its own and
        happens at whatever step comes first, so a step skipped then would move it
        (Engine._hourly_alone)."""
        state = patient.news2_floor
        if state is None:
            return False
        for index, (_, _, release_s) in enumerate(self.floors):
            below_since = state.below_since[index]
            if below_since is not None and at - below_since >= release_s:
                return True
        return False

    def severity(self, patient: Patient) -> str | None:
        """ "high" or "medium" while that floor is confirmed, else None."""
        state = patient.news2_floor
        if state is None:
            return None
        for index, (_, severity, _) in enumerate(self.floors):
            if state.confirmed[index]:
                return severity
        return None

    def threshold(self, severity: str) -> int:
        """The NEWS2 score at which the floor of `severity` holds (for the alert's reasons)."""
        return next(threshold for threshold, name, _ in self.floors if name == severity)
