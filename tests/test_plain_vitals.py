"""The fast path for plain vital signs (monitor/wire/plain_vitals.py) gives what pydantic gives.

On any JSON object, `plain_vitals` either declines (None) or returns a model equal in every
respect to pydantic's validation of it — values, types, the fields the sender set — and when
pydantic rejects the object, the fast path must have declined. `decode_input` therefore gives
the same model, or the same InvalidMessage, as pydantic alone.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.wire import InvalidMessage, VitalSigns, decode_input
from monitor.wire.codec import invalid
from monitor.wire.plain_vitals import plain_vitals
from monitor.wire.vitals import HARD_BOUNDS, MEASUREMENTS


def _numbers(low: float, high: float) -> st.SearchStrategy[Any]:
    edges = [
        low,
        high,
        low - 1e-9,
        high + 1e-9,
        0,
        0.0,
        -0.0,
        int(low),
        int(high),
        int(high) + 1,
        -1,
        math.nan,
        math.inf,
        -math.inf,
        10**20,
    ]
    return st.one_of(
        st.sampled_from(edges),
        st.floats(low - 5, high + 5),
        st.floats(),
        st.integers(int(low) - 5, int(high) + 5),
        st.booleans(),
        st.none(),
        st.text(max_size=4),
        st.just("80"),
        st.just([80]),
    )


_TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            "2026-11-23T18:00:00Z",
            "2026-11-23T18:00:00z",
            "2026-11-23t18:00:00Z",
            "2026-11-23 18:00:00Z",
            "2026-11-23T18:00:00.123Z",
            "2026-11-23T18:00:00.123456789Z",
            "2026-11-23T18:00:00+01:00",
            "2026-11-23T18:00:00-05:30",
            "2026-11-23T18:00:00",
            "2026-02-30T18:00:00Z",
            "2026-11-23T25:00:00Z",
            "1700000000",
            "",
            "2026-11-23T18:00:00Z\n",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.text(max_size=30),
)
_PATIENT_IDS = st.one_of(
    st.sampled_from(["p1", "bed-3.a:b_c", "x" * 64, "x" * 65, "", "p 1", "p1\n", "é", "P-0001"]),
    st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
    st.text(max_size=70),
    st.integers(),
    st.none(),
    st.booleans(),
)
_TEXTS = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.floats(), st.booleans())
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "patient_id": _PATIENT_IDS,
    "ts": _TIMESTAMPS,
    "ward": _TEXTS,
    "bed": _TEXTS,
    "source": _TEXTS,
    **{name: _numbers(HARD_BOUNDS[name][0], HARD_BOUNDS[name][1]) for name in MEASUREMENTS},
    "on_oxygen": st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.sampled_from(["true", "false"])),
    "consciousness": st.one_of(
        st.none(), st.sampled_from(["A", "C", "V", "P", "U", "a", "X", "", "AV"]), st.integers()
    ),
    "extra_field": st.one_of(st.none(), st.integers(), st.text(max_size=4)),
    "kind": st.text(max_size=4),
}

_VALID: dict[str, st.SearchStrategy[Any]] = {
    **{
        name: st.one_of(
            st.floats(HARD_BOUNDS[name][0], HARD_BOUNDS[name][1]),
            st.integers(int(HARD_BOUNDS[name][0]), int(HARD_BOUNDS[name][1])),
            st.sampled_from([float(HARD_BOUNDS[name][0]), float(HARD_BOUNDS[name][1])]),
        )
        for name in MEASUREMENTS
    },
    "ward": st.one_of(st.none(), st.text(max_size=8)),
    "bed": st.one_of(st.none(), st.text(max_size=8)),
    "source": st.one_of(st.none(), st.text(max_size=8)),
    "on_oxygen": st.one_of(st.none(), st.booleans()),
    "consciousness": st.one_of(st.none(), st.sampled_from(["A", "C", "V", "P", "U"])),
}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """JSON objects that are often valid VitalSigns and often wrong in one small way."""
    names = draw(st.lists(st.sampled_from(sorted(_FIELDS)), unique=True, max_size=len(_FIELDS)))
    required = [name for name in ("patient_id", "ts") if draw(st.booleans()) or draw(st.booleans())]
    document = {name: draw(_FIELDS[name]) for name in dict.fromkeys(required + names)}
    if draw(st.booleans()):  # mostly well-formed: fix the identity, the time and most values
        document["patient_id"] = draw(st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True))
        document["ts"] = draw(st.sampled_from(["2026-11-23T18:00:00Z", "2026-11-23T18:00:00.5+02:00"]))
        for name in names:
            if draw(st.integers(0, 5)) and name in _VALID:
                document[name] = draw(_VALID[name])
    return document


def _validated(document: dict[str, Any]) -> VitalSigns | ValidationError:
    try:
        return VitalSigns.model_validate(document)
    except ValidationError as error:
        return error


def _same(fast: VitalSigns, slow: VitalSigns) -> None:
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert list(fast.__dict__) == list(slow.__dict__)
    for name, value in slow.__dict__.items():
        assert type(fast.__dict__[name]) is type(value), name
        assert repr(fast.__dict__[name]) == repr(value), name
    assert fast.ts.tzinfo == slow.ts.tzinfo
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.model_dump_json() == slow.model_dump_json()


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_the_fast_path_declines_or_agrees_with_pydantic(document: dict[str, Any]) -> None:
    fast = plain_vitals(document)
    slow = _validated(document)
    if fast is None:
        return
    assert not isinstance(slow, ValidationError), f"pydantic rejects what the fast path took: {slow}"
    _same(fast, slow)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_decode_input_gives_what_pydantic_gives(document: dict[str, Any]) -> None:
    try:
        raw = orjson.dumps(document)
    except TypeError:
        return
    slow = _validated(orjson.loads(raw))
    if isinstance(slow, ValidationError):
        expected = invalid(slow)
        with pytest.raises(InvalidMessage) as raised:
            decode_input(raw)
        assert (raised.value.reason, raised.value.kind) == (expected.reason, expected.kind)
    else:
        _same(decode_input(raw), slow)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "document",
    [
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00+01:00", "heart_rate": 80, "spo2": None},
        {
            "patient_id": "p1",
            "ts": "2026-11-23T18:00:00Z",
            "temperature": 45,
            "on_oxygen": False,
            "consciousness": "A",
            "ward": "W",
            "bed": "3",
            "source": "s",
            "other": [1],
        },
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00.250Z", "heart_rate": 0.0, "spo2": 100},
    ],
)
def test_plain_messages_take_the_fast_path(document: dict[str, Any]) -> None:
    fast = plain_vitals(document)
    assert fast is not None
    _same(fast, VitalSigns.model_validate(document))


@pytest.mark.parametrize(
    "document",
    [
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z"},  # no measurement
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00", "heart_rate": 80.0},  # no offset
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": True},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": "80"},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": 350.5},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "temperature": 19.99},
        {"patient_id": "p1\n", "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0},
        {"patient_id": 1, "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0},
        {"ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0, "ward": 3},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0, "on_oxygen": 1},
        {"patient_id": "p1", "ts": "2026-11-23T18:00:00Z", "heart_rate": 80.0, "consciousness": "a"},
    ],
)
def test_anything_doubtful_goes_to_pydantic(document: dict[str, Any]) -> None:
    assert plain_vitals(document) is None
