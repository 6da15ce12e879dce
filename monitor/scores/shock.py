"""Shock index and qSOFA: two more ways the same vital signs say "circulation failing"."""

from __future__ import annotations

import math


def shock_index(heart_rate: float | None, systolic_bp: float | None) -> float | None:
    """Heart rate over systolic BP, to two decimals; None unless both are known (and the
    quotient is a number: a systolic of 1e-300 is no blood pressure)."""
    if heart_rate is None or not systolic_bp:
        return None
    quotient = heart_rate / systolic_bp
    # round(quotient, 2) costs a decimal conversion each way, more than the rest of the score;
    # away from a half-hundredth the hundredths are plain arithmetic, and dividing the whole
    # number by 100 gives the same nearest double as round() (both correctly rounded). Within
    # a millionth of a half, round() decides, so ties round exactly as it rounds them.
    hundredths = quotient * 100.0
    if 0.0 < hundredths < 1e9:
        whole = int(hundredths)
        fraction = hundredths - whole
        if fraction < 0.499999 or fraction > 0.500001:
            return (whole + (fraction > 0.5)) / 100.0
    index = round(quotient, 2)
    return index if math.isfinite(index) else None


def qsofa(
    respiratory_rate: float | None,
    systolic_bp: float | None,
    consciousness: str | None,
    rate_threshold: float = 22.0,
    systolic_threshold: float = 100.0,
) -> int | None:
    """qSOFA 0–3, or None without a respiratory rate and a systolic BP.

    Mentation is scored from ACVPU when it is known and counts 0 when it is not, as NEWS2
    counts a missing parameter: the score can only be an underestimate, never an invention.
    """
    if respiratory_rate is None or systolic_bp is None:
        return None
    return (
        (respiratory_rate >= rate_threshold)
        + (systolic_bp <= systolic_threshold)
        + (consciousness is not None and consciousness != "A")
    )
