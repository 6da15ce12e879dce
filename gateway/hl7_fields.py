"""Reading fields of a parsed HL7 v2 message (python-hl7) without tripping on absent ones.

HL7 v2 senders leave trailing fields and components out, and python-hl7 raises IndexError for
some absent paths and returns "" for others; every reader here returns "" for anything absent,
so the codec can speak only of what is present.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone, tzinfo

import hl7
import hl7.util

from monitor.wire import InvalidMessage

# python-hl7 logs, at ERROR and with a traceback, every escape sequence it cannot read, quoting
# the field: message content (perhaps a name) in the service's log, for input that is then
# used as written or rejected here with a reason. Its logger is named after its file.
logging.getLogger(hl7.util.__file__).setLevel(logging.CRITICAL)

_DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}(?:\.\d{1,4})?)?([+-]\d{4})?$")
_OFFSET = re.compile(r"^\d{4,14}(?:\.\d{1,4})?([+-])(\d{2})(\d{2})$")


def text_of(raw: bytes | str) -> str:
    """The message as text, with segments separated by CR as HL7 wants.

    HL7 v2 senders use ASCII, ISO 8859-1 (MSH-18 `8859/1`) or UTF-8; identifiers and numbers are
    ASCII in all of them, so UTF-8 with an ISO 8859-1 fallback reads every message without
    guessing from MSH-18. LF and CRLF between segments, which file-based and hand-typed
    messages use, are turned into CR.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    else:
        text = raw
    segments = text.replace("\r\n", "\r").replace("\n", "\r").strip("\x00\x0b\x1c").split("\r")
    return "\r".join(segment for segment in segments if segment.strip())


def parse_message(text: str) -> hl7.Message:
    """The parsed message, or InvalidMessage when it is not an HL7 v2 message at all."""
    if not text.startswith("MSH") or len(text) < 8:
        raise InvalidMessage(
            f"not an HL7 v2 message: it must begin with an MSH segment such as "
            f"'MSH|^~\\&|...', but begins with {text[:12]!r}",
            "not_hl7",
        )
    separator = text[3]
    encoding = text[4 : text.find(separator, 4)] if separator in text[4:] else ""
    characters = separator + encoding
    if (
        not 4 <= len(encoding) <= 5
        or len(set(characters)) != len(characters)
        or any(char.isalnum() or char.isspace() for char in characters)
    ):
        raise InvalidMessage(
            f"MSH-1/MSH-2 {characters[:8]!r} are not HL7 separators: a message begins "
            f"'MSH|^~\\&|' (five distinct punctuation characters)",
            "not_hl7",
        )
    try:
        return hl7.parse(text)
    except (hl7.exceptions.HL7Exception, AssertionError, ValueError, IndexError, KeyError) as error:
        raise InvalidMessage(f"not a readable HL7 v2 message: {error}", "not_hl7") from None


def value(segment: hl7.Segment, field: int, component: int = 1, repetition: int = 1) -> str:
    """One component of one field, unescaped; "" when absent."""
    try:
        return str(segment.extract_field(1, field, repetition, component, 1)).strip()
    except (IndexError, KeyError, TypeError):
        return ""


def repetitions(segment: hl7.Segment, field: int) -> int:
    """How many repetitions (`~`) a field has; 0 when absent or empty."""
    if field >= len(segment) or not str(segment(field)):
        return 0
    item = segment(field)
    return len(item) if isinstance(item, hl7.Field) else 1


def sender_zone(msh_time: str, default: tzinfo) -> tzinfo:
    """The zone of a sender's times that carry no offset.

    HL7 v2 (chapter 2, TS/DTM) says such a time is in the sender's local zone, and the offset
    of MSH-7 is the best statement of that zone a message can make; without one the receiver's
    configured default stands in.
    """
    match = _OFFSET.match(msh_time)
    return (match and _fixed_zone(*match.groups())) or default


def _fixed_zone(sign: str, hours: str, minutes: str) -> tzinfo | None:
    if int(hours) > 23 or int(minutes) > 59:
        return None
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-offset if sign == "-" else offset)


def parse_time(text: str, zone: tzinfo, field: str) -> datetime:
    """An HL7 DTM as an aware datetime, to the minute at least.

    A time without an offset is placed in `zone` (see `sender_zone`). A time to the hour or the
    day only is rejected: a vital sign stamped with midnight or the hour would sit in the wrong
    place in a patient's trend.
    """
    match = _DTM.match(text)
    if not match:
        raise InvalidMessage(
            f"{field} {text!r} is not an HL7 date and time to the minute at least "
            f"(YYYYMMDDHHMM[SS][+/-ZZZZ], e.g. 20261123180000+0100)",
            "timestamp",
        )
    try:
        parsed = hl7.parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidMessage(f"{field} {text!r} is not a real date and time", "timestamp")
    offset = match.group(7)
    if offset is None:
        return parsed.replace(tzinfo=zone)
    # python-hl7 keeps the offset's sign on the hours only (-0030 would come out as +0030).
    fixed = _fixed_zone(offset[0], offset[1:3], offset[3:5])
    if fixed is None:
        raise InvalidMessage(f"{field} {text!r} has an impossible UTC offset", "timestamp")
    return parsed.replace(tzinfo=fixed)
