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


def trusted(model: type[Model], fields: dict[str, Any], given: Iterable[str] | None = None) -> Model:
    """An instance of `model` with these field values (every field, in declaration order);
    `given` names the fields the sender set (all of them by default)."""
    instance = model.__new__(model)
    setter = object.__setattr__
    setter(instance, "__dict__", fields)
    setter(instance, "__pydantic_fields_set__", set(fields if given is None else given))
    setter(instance, "__pydantic_extra__", None)
    setter(instance, "__pydantic_private__", None)
    return instance
