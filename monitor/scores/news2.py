"""NEWS2 exactly as the Royal College of Physicians' chart (2017), scale 1 and scale 2.

The chart is a published score, not a policy: a hospital that moved its edges would no longer
be computing NEWS2. So the chart lives here as data, and only the response thresholds (5, 7,
a single 3) are settings.

The chart has whole numbers (0.1 °C for temperature). A monitor reports 90.4 or 38.05; such a
value is rounded to the chart's resolution, halves up, before it is banded (90.4 → 90 scores 0,
90.5 → 91 scores 1; 38.05 → 38.1 scores 1). Each table below therefore lists the first value
that no longer belongs to a band, at half a chart step.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.catalogue import CATALOGUE

#: Contract order of the components in `PatientStatus.news2.components`.
COMPONENTS: tuple[str, ...] = (
    "respiratory_rate",
    "spo2",
    "air_or_oxygen",
    "systolic_bp",
    "heart_rate",
    "consciousness",
    "temperature",
)
RESPIRATION, SPO2, AIR_OR_OXYGEN, SYSTOLIC, PULSE, CONSCIOUSNESS, TEMPERATURE = range(7)

# (first value above the band, points of the band), lowest band first; the last band is open.
_RESPIRATION = ((8.5, 3), (11.5, 1), (20.5, 0), (24.5, 2))
_RESPIRATION_ABOVE = 3
_SPO2_SCALE_1 = ((91.5, 3), (93.5, 2), (95.5, 1))
_SPO2_SCALE_1_ABOVE = 0
_SPO2_SCALE_2_LOW = ((83.5, 3), (85.5, 2), (87.5, 1), (92.5, 0))
_SPO2_SCALE_2_ON_OXYGEN = ((94.5, 1), (96.5, 2))
_SPO2_SCALE_2_ON_OXYGEN_ABOVE = 3
_SYSTOLIC = ((90.5, 3), (100.5, 2), (110.5, 1), (219.5, 0))
_SYSTOLIC_ABOVE = 3
_PULSE = ((40.5, 3), (50.5, 1), (90.5, 0), (110.5, 1), (130.5, 2))
_PULSE_ABOVE = 3
_TEMPERATURE = ((35.05, 3), (36.05, 1), (38.05, 0), (39.05, 1))
_TEMPERATURE_ABOVE = 2


def _band(value: float, table: tuple[tuple[float, int], ...], above: int) -> int:
    for limit, points in table:
        if value < limit:
            return points
    return above


def _by_whole_number(table: tuple[tuple[float, int], ...], above: int, highest: int) -> tuple[int, ...]:
    """The chart's points for every whole number up to the contract's bound: rounding half up
    and looking the number up gives the same points as banding the value, several times
    faster, which matters at one score per vital sign."""
    return tuple(_band(number, table, above) for number in range(highest + 1))


def _spo2_scale_2(spo2: float, on_oxygen: bool) -> int:
    if spo2 < 92.5 or not on_oxygen:
        return _band(spo2, _SPO2_SCALE_2_LOW, 0)
    return _band(spo2, _SPO2_SCALE_2_ON_OXYGEN, _SPO2_SCALE_2_ON_OXYGEN_ABOVE)


def _highest(name: str) -> int:
    """The contract's upper bound of a measurement (the catalogue's), as a whole number."""
    return int(CATALOGUE[name].bounds[1])


# Each table runs from 0 to the contract's upper bound. A rounded value beyond the table (only an
# out-of-contract value, in a test or a caller that skipped the wire) is banded instead: the
# IndexError costs nothing on the common path, unlike comparing with a module constant.
_RESPIRATION_POINTS = _by_whole_number(_RESPIRATION, _RESPIRATION_ABOVE, _highest("respiratory_rate"))
_SPO2_SCALE_1_POINTS = _by_whole_number(_SPO2_SCALE_1, _SPO2_SCALE_1_ABOVE, _highest("spo2"))
_SPO2_SCALE_2_ON_AIR_POINTS = tuple(_spo2_scale_2(number, False) for number in range(_highest("spo2") + 1))
_SPO2_SCALE_2_ON_OXYGEN_POINTS = tuple(_spo2_scale_2(number, True) for number in range(_highest("spo2") + 1))
_SYSTOLIC_POINTS = _by_whole_number(_SYSTOLIC, _SYSTOLIC_ABOVE, _highest("systolic_bp"))
_PULSE_POINTS = _by_whole_number(_PULSE, _PULSE_ABOVE, _highest("heart_rate"))


def respiration_points(rate: float) -> int:
    index = int(rate + 0.5)
    if index >= 0:
        try:
            return _RESPIRATION_POINTS[index]
        except IndexError:
            pass
    return _band(rate, _RESPIRATION, _RESPIRATION_ABOVE)


def spo2_points(spo2: float, scale: int = 1, on_oxygen: bool = False) -> int:
    """Scale 2 scores high saturations only on oxygen: ≥ 93 % on air scores 0."""
    index = int(spo2 + 0.5)
    if scale != 2:
        if index >= 0:
            try:
                return _SPO2_SCALE_1_POINTS[index]
            except IndexError:
                pass
        return _band(spo2, _SPO2_SCALE_1, _SPO2_SCALE_1_ABOVE)
    if index >= 0:
        try:
            return (_SPO2_SCALE_2_ON_OXYGEN_POINTS if on_oxygen else _SPO2_SCALE_2_ON_AIR_POINTS)[index]
        except IndexError:
            pass
    return _spo2_scale_2(spo2, on_oxygen)


def air_or_oxygen_points(on_oxygen: bool) -> int:
    return 2 if on_oxygen else 0


def systolic_points(systolic: float) -> int:
    index = int(systolic + 0.5)
    if index >= 0:
        try:
            return _SYSTOLIC_POINTS[index]
        except IndexError:
            pass
    return _band(systolic, _SYSTOLIC, _SYSTOLIC_ABOVE)


def pulse_points(pulse: float) -> int:
    index = int(pulse + 0.5)
    if index >= 0:
        try:
            return _PULSE_POINTS[index]
        except IndexError:
            pass
    return _band(pulse, _PULSE, _PULSE_ABOVE)


def consciousness_points(acvpu: str) -> int:
    """ACVPU: `C` is new confusion by the scale's own definition, so it scores as V, P and U."""
    return 0 if acvpu == "A" else 3


def temperature_points(celsius: float) -> int:
    return _band(celsius, _TEMPERATURE, _TEMPERATURE_ABOVE)


class News2Score(NamedTuple):
    score: int
    band: str
    complete: bool
    components: tuple[int, ...]

    def as_dict(self) -> dict[str, int]:
        return dict(zip(COMPONENTS, self.components))


def band_of(score: int, components: tuple[int, ...] | list[int], key: int = 5, emergency: int = 7, red: int = 3) -> str:
    """`low`, `low_medium` (a single parameter scoring 3, total below the key threshold),
    `medium` (5–6) or `high` (≥ 7), as the contract names the RCP's clinical risk bands."""
    if score >= emergency:
        return "high"
    if score >= key:
        return "medium"
    if red in components:
        return "low_medium"
    return "low"


def news2(
    *,
    respiratory_rate: float | None = None,
    spo2: float | None = None,
    on_oxygen: bool = False,
    systolic_bp: float | None = None,
    heart_rate: float | None = None,
    consciousness: str | None = None,
    temperature: float | None = None,
    scale: int = 1,
    key: int = 5,
    emergency: int = 7,
    red: int = 3,
) -> News2Score:
    """The whole score from one set of values; a missing parameter scores 0 and makes the score
    incomplete. Air or oxygen is never missing: without word of oxygen the patient is on air.
    `key`, `emergency` and `red` are the band thresholds (see band_of)."""
    components = (
        0 if respiratory_rate is None else respiration_points(respiratory_rate),
        0 if spo2 is None else spo2_points(spo2, scale=scale, on_oxygen=on_oxygen),
        air_or_oxygen_points(on_oxygen),
        0 if systolic_bp is None else systolic_points(systolic_bp),
        0 if heart_rate is None else pulse_points(heart_rate),
        0 if consciousness is None else consciousness_points(consciousness),
        0 if temperature is None else temperature_points(temperature),
    )
    complete = None not in (respiratory_rate, spo2, systolic_bp, heart_rate, consciousness, temperature)
    score = sum(components)
    return News2Score(score, band_of(score, components, key, emergency, red), complete, components)
