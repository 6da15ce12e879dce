"""A fast path for plain vital signs: the common message, checked by hand rather than by pydantic.

Most messages of the `vitals` topic, and most lines of a replay, are a VitalSigns whose every
field is of the expected JSON type and inside its bounds. For those, pydantic's validation is
most of the cost of decoding (about 12 µs of 14 on hourly records). `plain_vitals` checks the
same rules directly and builds the model with `trusted`; whatever it cannot prove valid — a
wrong type, a value out of bounds, an odd patient id or timestamp, a missing field — it leaves
to pydantic (it returns None), so every error message and dead-letter reason is pydantic's as
before. tests/test_plain_vitals.py checks it against the validated twin on generated input.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from monitor.wire.timestamps import parse_timestamp
from monitor.wire.trusted import trusted
from monitor.wire.vitals import HARD_BOUNDS, VitalSigns

_FIELDS = tuple(VitalSigns.model_fields)
_BOUNDS = {name: (low, high) for name, (low, high, _unit) in HARD_BOUNDS.items()}
#: The contract's pattern, matched in full: Python's `$` would also match before a final
#: newline, which pydantic's (Rust) pattern does not; such an id goes to pydantic.
_PATIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CONSCIOUSNESS = frozenset(("A", "C", "V", "P", "U"))
_TEXT = frozenset(("ward", "bed", "source"))

#: Timestamps parsed lately, by their text: messages of one moment share one, and hourly
#: records repeat the same hours stay after stay. Emptied when full, to stay small.
_parsed: dict[str, datetime] = {}
_PARSED_MAX = 4096


def plain_vitals(document: dict[str, Any]) -> VitalSigns | None:
    """The VitalSigns pydantic would make of this JSON object (no `type` key), or None when
    any part of it needs pydantic's judgement."""
    fields: dict[str, Any] = dict.fromkeys(_FIELDS)
    extra = measured = False
    for key, value in document.items():
        bounds = _BOUNDS.get(key)
        if bounds is not None:
            if value is not None:
                kind = type(value)
                if kind is float:
                    if not bounds[0] <= value <= bounds[1]:  # NaN fails too
                        return None
                elif kind is int and bounds[0] <= value <= bounds[1]:
                    value = float(value)  # exact within the bounds, as pydantic makes it
                else:
                    return None
                measured = True
        elif key == "patient_id":
            if type(value) is not str or _PATIENT_ID.fullmatch(value) is None:
                return None
        elif key == "ts":
            if type(value) is not str:
                return None
            parsed = _parsed.get(value)
            if parsed is None:
                try:
                    parsed = parse_timestamp(value)
                except ValueError:
                    return None
                if len(_parsed) >= _PARSED_MAX:
                    _parsed.clear()
                _parsed[value] = parsed
            value = parsed
        elif key in _TEXT:
            if value is not None and type(value) is not str:
                return None
        elif key == "on_oxygen":
            if value is not None and type(value) is not bool:
                return None
        elif key == "consciousness":
            if value is not None and (type(value) is not str or value not in _CONSCIOUSNESS):
                return None
        else:
            extra = True  # not a field: ignored, as the model's `extra="ignore"` does
            continue
        fields[key] = value
    if not measured or fields["patient_id"] is None or fields["ts"] is None:
        return None
    # pydantic's fields set: the fields the sender gave, None or not
    return trusted(VitalSigns, fields, [key for key in document if key in fields] if extra else document)
