"""What an HTTP answer means for a page, and how long to wait before trying again.

Only answers that can change with time are retried (timeouts, refused connections, 408, 425,
429 and 5xx). Any other 4xx says the request itself is wrong, and repeating it cannot help:
it goes to the dead-letter topic at once, where a person sees it. 410 Gone means the receiver
asked to be forgotten (Standard Webhooks): the endpoint is disabled, loudly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from alerting.dispatch.config import DeliverySettings

Verdict = Literal["delivered", "retry", "gone", "rejected"]
_RETRYABLE = {408, 425, 429}
_RANDOM = random.Random()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try, kept in the page's history and in its dead letter."""

    at: float
    seconds: float
    status: int | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return {"at": self.at, "seconds": self.seconds, "status": self.status, "error": self.error}


def judge(status: int | None) -> Verdict:
    """The verdict on one attempt; `None` is an attempt that got no HTTP answer at all."""
    if status is None or status in _RETRYABLE or status >= 500:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    return "rejected"


def backoff(attempts: int, settings: DeliverySettings, rng: random.Random = _RANDOM) -> float:
    """Exponential backoff with jitter: half the exponential step fixed, half random, so that
    retries spread out without ever coming sooner than half the step."""
    step = min(settings.backoff_max, settings.backoff_initial * 2 ** max(attempts - 1, 0))
    return step / 2 + rng.uniform(0, step / 2)


def retry_after_seconds(header: str | None, now: float) -> float | None:
    """The receiver's Retry-After, in seconds from now: delta-seconds or an HTTP date."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        return max(parsedate_to_datetime(header).timestamp() - now, 0.0)
    except (TypeError, ValueError, IndexError):
        return None


def next_delay(
    attempts: int, settings: DeliverySettings, retry_after: float | None, rng: random.Random = _RANDOM
) -> float:
    """How long to wait after `attempts` failed tries: the backoff, or longer if the receiver
    asked for it (capped, so one receiver cannot park a page for a day)."""
    delay = backoff(attempts, settings, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.retry_after_max))
    return delay
