"""The measurements the engine tracks, by position, with the words and units people read.

The engine keeps per-measurement state in short lists indexed by these positions, which is
several times cheaper per vital sign than dictionaries keyed by name.
"""

from monitor.wire.vitals import MEASUREMENTS

HEART_RATE, SYSTOLIC, DIASTOLIC, MEAN_ARTERIAL, TEMPERATURE, SPO2, RESPIRATORY_RATE = range(7)
assert MEASUREMENTS == (
    "heart_rate", "systolic_bp", "diastolic_bp", "mean_arterial_pressure", "temperature", "spo2",
    "respiratory_rate",
), "positions above must follow the wire contract's order"

COUNT = len(MEASUREMENTS)

LABELS: tuple[str, ...] = (
    "heart rate", "systolic BP", "diastolic BP", "mean arterial pressure", "temperature",
    "SpO2", "respiratory rate",
)
UNITS: tuple[str, ...] = ("/min", "mmHg", "mmHg", "mmHg", "°C", "%", "/min")


def describe(position: int, value: float) -> str:
    """`systolic BP 88 mmHg`, `temperature 38.9 °C`: a value as a person reads it."""
    if position == TEMPERATURE:
        return f"temperature {value:.1f} °C"
    unit = UNITS[position]
    number = f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    return f"{LABELS[position]} {number}{'' if unit == '/min' else ' '}{unit}"
