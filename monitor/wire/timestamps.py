"""RFC 3339 timestamps that must carry an explicit offset.

pydantic's own datetime parsing accepts Unix numbers and naive times; the contract does not,
because a time without an offset silently shifts by hours between a gateway and a worker.
"""

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime:
    """Parse an RFC 3339 string with an offset into an aware UTC datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()!r} has no UTC offset")
        return value.astimezone(timezone.utc)
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} must be an RFC 3339 string")
    if not _RFC3339.match(value):
        raise ValueError(f"timestamp {value!r} is not RFC 3339 with an offset (e.g. 2026-11-23T18:00:00Z)")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not a real date and time") from None
    return parsed.astimezone(timezone.utc)


@lru_cache(maxsize=4096)
def format_timestamp(value: datetime) -> str:
    """Format as RFC 3339 in UTC with a `Z`, milliseconds only when there are any.

    Cached: a status writes the time of each lab result it carries, the same few times in
    every status of the patient (equal datetimes are the same instant, so the same text)."""
    value = value.astimezone(timezone.utc)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
]
