"""The measurements the engine tracks, by position, with the words and units people read.

The engine keeps per-measurement state in short lists indexed by these positions, which is
several times cheaper per vital sign than dictionaries keyed by name.
"""

from monitor.catalogue import CATALOGUE
from monitor.wire.vitals import MEASUREMENTS

HEART_RATE, SYSTOLIC, DIASTOLIC, MEAN_ARTERIAL, TEMPERATURE, SPO2, RESPIRATORY_RATE = range(7)
assert MEASUREMENTS == (
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "mean_arterial_pressure",
    "temperature",
    "spo2",
    "respiratory_rate",
), "positions above must follow the wire contract's order"

COUNT = len(MEASUREMENTS)

#: The words and units of each position, as the catalogue (monitor/catalogue.py) gives them.
LABELS: tuple[str, ...] = tuple(CATALOGUE[name].label for name in MEASUREMENTS)
UNITS: tuple[str, ...] = tuple(CATALOGUE[name].unit for name in MEASUREMENTS)


_DIGITS: tuple[int, ...] = tuple(CATALOGUE[name].digits for name in MEASUREMENTS)


def describe(position: int, value: float) -> str:
    """`systolic BP 88 mmHg`, `temperature 38.9 °C`: a value as a person reads it (a sign shown
    with decimals always has them; the others are whole unless they are not)."""
    digits = _DIGITS[position]
    if digits:
        number = f"{value:.{digits}f}"
    else:
        number = f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    unit = UNITS[position]
    return f"{LABELS[position]} {number}{'' if unit == '/min' else ' '}{unit}"
