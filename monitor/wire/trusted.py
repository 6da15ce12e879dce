"""Wire models built from values already known to be valid, without pydantic's validation.

For the few places where validation would cost more than the work around it (the engine's
outputs, the fast path for plain vital signs). The instance gets exactly the attributes pydantic
itself sets, so it compares, serialises and copies like a validated one; the tests that use
these paths check each result against its validated twin.
"""

from __future__ import annotations

from typing import Any, Iterable, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)

# BaseModel's own slots, set through their descriptors: cheaper than object.__setattr__ by name,
# and the engine builds a status for most vital signs.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__

#: Per model, the set of its field names, copied for each instance (a copy costs less than
#: building the set from the names again).
_EVERY_FIELD: dict[type, set[str]] = {}


def trusted(model: type[Model], fields: dict[str, Any], given: Iterable[str] | None = None) -> Model:
    """An instance of `model` with these field values (every field, in declaration order);
    `given` names the fields the sender set (all of them by default)."""
    instance = model.__new__(model)
    _set_dict(instance, fields)
    if given is None:
        every = _EVERY_FIELD.get(model)
        if every is None:
            every = _EVERY_FIELD[model] = set(model.model_fields)
        _set_fields_set(instance, every.copy())
    else:
        _set_fields_set(instance, set(given))
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance
