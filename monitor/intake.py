"""What every way into the engine checks of a valid message before it is applied: that it is
not dated ahead of the machine's clock, and that it was not delivered before.

Why here and not in the engine: the engine is a function of event time and never reads a
clock, and it sees decoded events, not the messages they came in. The worker (streams/) and
`crsmon replay` both hold the message and may read the clock, and both must refuse and
recognise the same messages, so both use these two pieces.

- A clock running ahead: a reading dated 2099 was accepted and every later reading of that
  patient fell behind its window, dropped with no alert, no metric and no log (issue 19). A
  record dated more than `future_tolerance_s` after now is refused with a reason saying how
  far ahead it is; within the tolerance the window's lateness allowance keeps the readings
  that follow, so a jump blinds a patient no longer than the jump.
- A message delivered twice: Kafka redelivers after a restart or a rebalance, a producer
  retries, an export repeats lines. Applied twice, a clinical event re-steps the patient and
  a vital-sign set can move a trend. A message identical to one of the patient's last
  `RECENT` messages is recognised by its digest and not applied again. (The worker also skips
  records up to the offsets its stored state had taken: streams/patient_states.py.)
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from hashlib import blake2b
from typing import Callable

from monitor.wire import InvalidMessage, format_timestamp

#: Messages remembered per patient: a producer's retry or a repeated line follows its original
#: closely; a restart's redelivery is recognised by offset, not by these.
RECENT = 16


def _ahead(seconds: float) -> str:
    """A person's reading of a duration: "73 years", "2 hours", "90 s"."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


class FutureCheck:
    """Refuses records dated more than `tolerance_s` after the machine's clock."""

    def __init__(self, tolerance_s: float, clock: Callable[[], float] = time.time) -> None:
        self.tolerance_s = tolerance_s
        self._clock = clock

    def check(self, ts: datetime) -> None:
        """Raises InvalidMessage (kind `future`) for a time too far ahead; else nothing."""
        now = self._clock()
        ahead = ts.timestamp() - now
        if ahead > self.tolerance_s:
            raise InvalidMessage(
                f"ts {format_timestamp(ts)} is {_ahead(ahead)} ahead of this machine's clock "
                f"({format_timestamp(datetime.fromtimestamp(now, timezone.utc))}); records more "
                f"than {self.tolerance_s:.0f} s ahead are refused (future_tolerance_s): check the "
                "sending device's or gateway's clock, or raise future_tolerance_s for a feed that "
                "runs ahead on purpose (a simulation)",
                "future",
            )

    def refuses(self, ts: datetime) -> bool:
        return ts.timestamp() - self._clock() > self.tolerance_s


class RecentMessages:
    """Per patient, digests of the last `RECENT` messages applied."""

    __slots__ = ("_digests",)

    def __init__(self) -> None:
        self._digests: dict[str, tuple[bytes, ...]] = {}

    def repeated(self, patient_id: str, message: bytes) -> bool:
        """True if `message` is one of the patient's recent ones; else remembers it, False."""
        digest = blake2b(message, digest_size=8).digest()
        recent = self._digests.get(patient_id)
        if recent is None:
            self._digests[patient_id] = (digest,)
            return False
        if digest in recent:
            return True
        self._digests[patient_id] = (recent + (digest,))[-RECENT:]
        return False

    def forget(self, patient_id: str) -> None:
        self._digests.pop(patient_id, None)

    def __len__(self) -> int:
        return len(self._digests)
