"""The HL7 v2 acknowledgement (original mode) that answers each ORU^R01.

HL7 v2 chapter 2, table 0008: AA when the message was accepted (here: published); AE when its
content is in error (the sender should fix it, resending the same message will not help); AR
when it was rejected for reasons unrelated to its content (not HL7, not ORU^R01, or crsmon
could not publish: the sender should resend later). The reason goes both into MSA-3, which
older gateways show, and into an ERR segment (v2.5+: ERR-3 code from table 0357, ERR-4
severity, ERR-8 the text for people).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Sequence

import hl7

from gateway.hl7_fields import parse_message, text_of, value
from monitor.wire import InvalidMessage

#: InvalidMessage kinds (and the shell's own) → acknowledgement code and HL7 table 0357 error.
_ANSWERS: dict[str, tuple[str, str]] = {
    "not_hl7": ("AR", "100^Segment sequence error"),
    "framing": ("AR", "100^Segment sequence error"),
    "too_large": ("AR", "100^Segment sequence error"),
    "unsupported_message": ("AR", "200^Unsupported message type"),
    "publish_failed": ("AR", "207^Application internal error"),
    "no_patient": ("AE", "101^Required field missing"),
    "missing_field": ("AE", "101^Required field missing"),
    "timestamp": ("AE", "102^Data type error"),
    "invalid_field": ("AE", "102^Data type error"),
    "out_of_bounds": ("AE", "102^Data type error"),
    "unit": ("AE", "103^Table value not found"),
    "unknown_test": ("AE", "103^Table value not found"),
    "censored": ("AE", "102^Data type error"),
    "no_vital_signs": ("AE", "103^Table value not found"),
}
_MSA_TEXT_LIMIT = 80  # MSA-3 is ST(80) in v2.3–v2.6
_ERR_TEXT_LIMIT = 1000


def ack_code_for(kind: str) -> str:
    """AE or AR for a rejection of this kind."""
    return _ANSWERS.get(kind, ("AE", ""))[0]


def acknowledge(raw: bytes | str, rejection: InvalidMessage | None = None, warnings: Sequence[str] = ()) -> bytes:
    """The ACK for `raw`: AA with optional warnings, or AE/AR with the rejection's reason.

    Never raises: a message too broken to read still gets an AR, with MSA-2 empty.
    """
    code = "AA" if rejection is None else ack_code_for(rejection.kind)
    try:
        # Only MSH is needed to answer, and parsing a whole message costs as much as decoding it.
        message = parse_message(text_of(raw).split("\r", 1)[0])
    except InvalidMessage:
        message = None
    try:
        ack = message.create_ack(code, application=value(message[0], 5) or "crsmon")
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        # python-hl7 cannot answer a message it cannot read, nor one whose MSH-9 has no trigger
        # event; such a sender still gets an ACK, with its control id when it gave one.
        control_id = value(message[0], 10) if message else ""
        ack = hl7.parse(f"MSH|^~\\&|crsmon||||{_now()}||ACK|{uuid.uuid4().hex[:20]}|P|2.6\rMSA|{code}|x")
        ack.segment("MSA").assign_field(ack.escape(control_id), 2)
    ack.segment("MSH").assign_field(_now(), 7)
    escape = (message or ack).escape
    if rejection is not None:
        ack.segment("MSA").assign_field(escape(rejection.reason[:_MSA_TEXT_LIMIT]), 3)
    lines = [str(ack).rstrip("\r")]
    if rejection is not None:
        error_code = _ANSWERS.get(rejection.kind, ("AE", "207^Application internal error"))[1]
        lines.append(_err(escape, error_code, "E", rejection.reason))
    for warning in warnings:
        lines.append(_err(escape, "0^Message accepted", "W", warning))
    return ("\r".join(lines) + "\r").encode("utf-8")


def _err(escape, error_code: str, severity: str, text: str) -> str:
    return f"ERR|||{error_code}^HL70357|{severity}||||{escape(text[:_ERR_TEXT_LIMIT])}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S+0000")
