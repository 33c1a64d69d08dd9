"""Channel interface, per-recipient results and the retry helper (docs/notifications.md).

Every channel takes a batch of :class:`Message` and returns exactly one :class:`Result`
per message, in the same order. A channel never raises for a delivery problem; it
classifies it:

* ``ok`` -- the provider accepted the message (``provider_message_id`` if it gave one).
* ``transient_error`` -- worth retrying later (timeouts, 5xx, provider throttling);
  ``retry_after`` carries the provider's hint in seconds when it gave one.
* ``permanent_error`` -- retrying cannot help (dead token, invalid number, bad
  credentials, rejected template). The caller must stop using the address: a dead
  device token is disabled, an invalid phone number or webhook is marked unusable.
  ``PermanentFailure`` is the exception form for callers that prefer raising.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


class Urgency(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    VERY_URGENT = "very_urgent"


class Outcome(enum.StrEnum):
    OK = "ok"
    TRANSIENT_ERROR = "transient_error"
    PERMANENT_ERROR = "permanent_error"


@dataclass(frozen=True)
class Message:
    """One notification for one recipient address on one channel.

    ``recipient`` is the channel-specific address: a phone number (SMS), a device
    token (push) or a webhook key (IM). ``idempotency_key`` is stable across retries of
    the same logical delivery (the outbox row id) so providers/fakes can de-duplicate.
    """

    recipient: str
    title: str
    body: str
    idempotency_key: str
    data: dict[str, str] = field(default_factory=dict)
    urgency: Urgency = Urgency.NORMAL


@dataclass(frozen=True)
class Result:
    """Outcome of sending one :class:`Message`."""

    message: Message
    outcome: Outcome
    provider_message_id: str | None = None
    error_code: str | None = None
    error_detail: str | None = None
    retry_after: float | None = None
    attempts: int = 1
    # A provider that splits one message (SMPP: one message id per concatenated part)
    # names every part here, for matching its delivery receipts.
    provider_part_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def transient(self) -> bool:
        return self.outcome is Outcome.TRANSIENT_ERROR

    @property
    def permanent(self) -> bool:
        return self.outcome is Outcome.PERMANENT_ERROR

    @classmethod
    def success(cls, message: Message, provider_message_id: str | None = None) -> Result:
        return cls(message, Outcome.OK, provider_message_id=provider_message_id)

    @classmethod
    def transient_error(
        cls,
        message: Message,
        code: str,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> Result:
        return cls(
            message, Outcome.TRANSIENT_ERROR, error_code=code, error_detail=detail,
            retry_after=retry_after,
        )  # fmt: skip

    @classmethod
    def permanent_error(cls, message: Message, code: str, detail: str | None = None) -> Result:
        return cls(message, Outcome.PERMANENT_ERROR, error_code=code, error_detail=detail)


class PermanentFailure(Exception):
    """Exception form of a permanent Result, for callers that prefer raising.

    The Django side reacts by disabling the device token / marking the number or
    webhook unusable; it never retries a permanent failure.
    """

    def __init__(self, result: Result) -> None:
        super().__init__(f"{result.error_code}: {result.error_detail or ''}".strip())
        self.result = result


class Channel(Protocol):
    """A delivery channel. ``send`` returns one Result per message, same order."""

    name: str

    def send(self, messages: Sequence[Message]) -> list[Result]: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    Delay before retry ``n`` (1-based) is ``uniform(0, min(max_delay, base * 2**(n-1)))``,
    raised to the provider's ``retry_after`` when that is larger (still capped at
    ``max_delay``). At most ``max_attempts`` sends in total; the whole call also stops
    once ``deadline`` seconds have elapsed on ``clock``.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 120.0

    def delay(
        self, retry_number: int, retry_after: float | None, rand: Callable[[], float]
    ) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        delay = rand() * ceiling
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay


def send_with_retry(
    channel: Channel,
    messages: Sequence[Message],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,  # jitter only, not security relevant
) -> list[Result]:
    """Send ``messages``; re-send only those whose result is transient.

    Returns the final Result per message in input order with ``attempts`` filled in.
    Permanent and ok results are never re-sent.
    """

    policy = policy or RetryPolicy()
    start = clock()
    final: list[Result | None] = [None] * len(messages)
    pending = list(range(len(messages)))
    attempt = 0
    while pending:
        attempt += 1
        results = channel.send([messages[i] for i in pending])
        if len(results) != len(pending):
            raise RuntimeError(f"channel {channel.name} returned {len(results)} results "
                               f"for {len(pending)} messages")  # fmt: skip
        still: list[int] = []
        hint: float | None = None
        for index, result in zip(pending, results, strict=True):
            final[index] = replace(result, attempts=attempt)
            if result.transient:
                still.append(index)
                if result.retry_after is not None:
                    hint = max(hint or 0.0, result.retry_after)
        pending = still
        if not pending or attempt >= policy.max_attempts:
            break
        wait = policy.delay(attempt, hint, rand)
        if clock() - start + wait > policy.deadline:
            break
        sleep(wait)
    return [r for r in final if r is not None]


def describe(value: Any, limit: int = 200) -> str:
    """Short printable form of a provider response for ``error_detail``."""

    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
