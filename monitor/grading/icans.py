"""ASTCT consensus grade of ICANS (Lee et al., Biol Blood Marrow Transplant 2019).

| grade | ICE | depressed consciousness | seizure | motor | raised pressure / oedema |
|---|---|---|---|---|---|
| 1 | 7–9 | awakens spontaneously | — | — | — |
| 2 | 3–6 | awakens to voice | — | — | — |
| 3 | 0–2 | awakens only to touch | resolves rapidly (or EEG, with intervention) | — | focal oedema |
| 4 | 0, unarousable | vigorous or repeated touch, unarousable | prolonged or repeated | deep focal weakness | diffuse |

The grade is the most severe domain. ICE 0 is grade 3 by the ICE domain (a patient awake but
globally aphasic scores 0); ICE 0 because the patient cannot be roused is grade 4 — through the
consciousness domain, which is where the table puts it: the ICE total alone cannot tell the two
apart. A domain not assessed (None) scores nothing: it is absent, not normal. Words are the wire
contract's (monitor/wire/events.py, NeuroEvent).
"""

from __future__ import annotations

from typing import NamedTuple

#: The domains in the table's column order: a reason names the worst first, then this order.
DOMAINS = ("ice", "arousal", "seizure", "motor", "cerebral_edema")

AROUSAL_GRADE = {"alert": 0, "spontaneous": 1, "voice": 2, "touch": 3, "vigorous": 4, "unarousable": 4}
SEIZURE_GRADE = {"none": 0, "resolved": 3, "prolonged": 4}
MOTOR_GRADE = {"none": 0, "deep_focal_weakness": 4}
EDEMA_GRADE = {"none": 0, "focal": 3, "diffuse": 4}

#: How a reason names each abnormal finding (the ICE domain is worded by the rule, with the
#: patient's own best beside it).
WORDS = {
    ("arousal", "spontaneous"): "drowsy, awakens spontaneously",
    ("arousal", "voice"): "awakens to voice",
    ("arousal", "touch"): "awakens only to touch",
    ("arousal", "vigorous"): "awakens only to vigorous or repeated touch",
    ("arousal", "unarousable"): "unarousable",
    ("seizure", "resolved"): "seizure that resolved rapidly",
    ("seizure", "prolonged"): "prolonged or repeated seizure",
    ("motor", "deep_focal_weakness"): "deep focal motor weakness",
    ("cerebral_edema", "focal"): "focal cerebral oedema",
    ("cerebral_edema", "diffuse"): "diffuse cerebral oedema or raised intracranial pressure",
}


def ice_grade(ice: int | None) -> int:
    """The grade the ICE score alone gives: 10 → 0, 7–9 → 1, 3–6 → 2, 0–2 → 3; None → 0."""
    if ice is None or ice >= 10:
        return 0
    if ice >= 7:
        return 1
    if ice >= 3:
        return 2
    return 3


class IcansGrade(NamedTuple):
    """The grade and each domain's own grade (0 where normal or not assessed)."""

    grade: int
    by_domain: dict[str, int]

    @property
    def set_by(self) -> tuple[str, ...]:
        """The domains that set the grade (all at the worst), in the table's order; () at 0."""
        if self.grade == 0:
            return ()
        return tuple(domain for domain in DOMAINS if self.by_domain[domain] == self.grade)


def grade_icans(
    *,
    ice: int | None = None,
    arousal: str | None = None,
    seizure: str | None = None,
    motor: str | None = None,
    cerebral_edema: str | None = None,
) -> IcansGrade:
    """The ASTCT ICANS grade of one assessment: the worst of its domains."""
    by_domain = {
        "ice": ice_grade(ice),
        "arousal": 0 if arousal is None else AROUSAL_GRADE[arousal],
        "seizure": 0 if seizure is None else SEIZURE_GRADE[seizure],
        "motor": 0 if motor is None else MOTOR_GRADE[motor],
        "cerebral_edema": 0 if cerebral_edema is None else EDEMA_GRADE[cerebral_edema],
    }
    return IcansGrade(max(by_domain.values()), by_domain)
