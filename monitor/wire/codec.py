"""Bytes to models and back, with one error for everything that can go wrong on the way in."""

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from monitor.wire.errors import InvalidMessage
from monitor.wire.events import CLINICAL_EVENT_TYPES, ClinicalEvent
from monitor.wire.outputs import Acknowledgement
from monitor.wire.plain_vitals import plain_vitals
from monitor.wire.vitals import VitalSigns

Model = TypeVar("Model", bound=BaseModel)
InputEvent = VitalSigns | ClinicalEvent

_CLINICAL_EVENT = TypeAdapter(ClinicalEvent)
_MAX_REASON_VALUE = 80


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REASON_VALUE else text[: _MAX_REASON_VALUE - 1] + "…"


def _kind_of(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    if first["type"] == "missing":
        return "missing_field"
    if first["type"] == "value_error":
        text = str(first["ctx"]["error"])
        if text.startswith("timestamp"):
            return "timestamp"
        if " outside " in text:
            return "out_of_bounds"
    return "invalid_field"


def invalid(error: ValidationError) -> InvalidMessage:
    """The contract's one validation error, made from pydantic's."""
    return InvalidMessage(describe_validation_error(error), _kind_of(error))


def describe_validation_error(error: ValidationError) -> str:
    """One line a person can act on: which field, what value, which rule."""
    reasons = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"] if not isinstance(part, int)]
        if len(location) > 1 and location[0] in CLINICAL_EVENT_TYPES:
            location = location[1:]  # the union's tag, which the `type` field already names
        field = ".".join(location) or "message"
        if item["type"] == "value_error":
            reasons.append(str(item["ctx"]["error"]))
        elif item["type"] == "missing":
            reasons.append(f"{field} is required")
        elif item["type"] == "union_tag_invalid":
            reasons.append(f"type {_shorten(item['input'].get('type'))} is not one of {item['ctx']['expected_tags']}")
        else:
            message = item["msg"][:1].lower() + item["msg"][1:]
            reasons.append(f"{field} {_shorten(item['input'])}: {message}")
    return "; ".join(reasons)


def _load_object(raw: bytes | str) -> dict[str, Any]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidMessage(f"not valid JSON: {error}", "not_json") from None
    if not isinstance(document, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(document).__name__}", "not_object")
    return document


def validate_input(document: dict[str, Any]) -> InputEvent:
    """A decoded JSON object as a VitalSigns, or a ClinicalEvent when it has a `type` key."""
    try:
        if "type" in document:
            return _CLINICAL_EVENT.validate_python(document)
        plain = plain_vitals(document)  # most messages: checked without pydantic, same result
        return plain if plain is not None else VitalSigns.model_validate(document)
    except ValidationError as error:
        raise invalid(error) from None


def decode_input(raw: bytes | str) -> InputEvent:
    """Decode one message of the `vitals` or `clinical-events` topic, or a replay line."""
    return validate_input(_load_object(raw))


def decode_as(model: type[Model], raw: bytes | str) -> Model:
    """Decode bytes into one specific wire model."""
    document = _load_object(raw)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise invalid(error) from None


def decode_acknowledgement(raw: bytes | str) -> Acknowledgement:
    """Decode one message of the `alert-acks` topic."""
    return decode_as(Acknowledgement, raw)


def encode(model: BaseModel, *, drop_none: bool = False) -> bytes:
    """The wire form of any model: compact JSON, UTF-8.

    Outputs keep their nulls (a consumer can tell "not measured" from a missing field);
    producers of input drop them to keep messages small.
    """
    return model.__pydantic_serializer__.to_json(model, exclude_none=drop_none)
