"""Retry helper and token bucket: bounded backoff, only transient results retried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from notifications.channels import (
    Message,
    Outcome,
    PermanentFailure,
    Result,
    RetryPolicy,
    send_with_retry,
)
from notifications.channels.ratelimit import TokenBucket


def msg(recipient: str) -> Message:
    return Message(recipient=recipient, title="t", body="b", idempotency_key=f"k-{recipient}")


@dataclass
class ScriptedChannel:
    """Answers per recipient from a script of outcomes; records every batch sent."""

    script: dict[str, list[Outcome]]
    batches: list[list[str]] = field(default_factory=list)
    name: str = "scripted"
    retry_after: float | None = None

    def send(self, messages: Sequence[Message]) -> list[Result]:
        self.batches.append([m.recipient for m in messages])
        out = []
        for m in messages:
            outcome = self.script[m.recipient].pop(0)
            if outcome is Outcome.OK:
                out.append(Result.success(m, "pid"))
            elif outcome is Outcome.TRANSIENT_ERROR:
                out.append(Result.transient_error(m, "busy", retry_after=self.retry_after))
            else:
                out.append(Result.permanent_error(m, "dead"))
        return out


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def __call__(self) -> float:
        return self.now


T, P, OK = Outcome.TRANSIENT_ERROR, Outcome.PERMANENT_ERROR, Outcome.OK


def test_only_transient_results_are_resent_and_order_is_kept():
    ch = ScriptedChannel({"a": [T, T, OK], "b": [P], "c": [OK]})
    clock = FakeClock()
    results = send_with_retry(
        ch, [msg("a"), msg("b"), msg("c")], sleep=clock.sleep, clock=clock, rand=lambda: 1.0
    )
    assert [r.message.recipient for r in results] == ["a", "b", "c"]
    assert [r.outcome for r in results] == [OK, P, OK]
    assert [r.attempts for r in results] == [3, 1, 1]
    assert ch.batches == [["a", "b", "c"], ["a"], ["a"]]
    assert clock.sleeps == [0.5, 1.0]  # base 0.5 doubling, full jitter at rand=1.0


def test_attempts_are_bounded_and_backoff_capped():
    ch = ScriptedChannel({"a": [T] * 10})
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=3.0, deadline=1000)
    results = send_with_retry(
        ch, [msg("a")], policy, sleep=clock.sleep, clock=clock, rand=lambda: 1.0
    )
    assert results[0].outcome is T and results[0].attempts == 5
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0]


def test_jitter_and_provider_retry_after_hint():
    ch = ScriptedChannel({"a": [T, OK]}, retry_after=7.0)
    clock = FakeClock()
    send_with_retry(ch, [msg("a")], sleep=clock.sleep, clock=clock, rand=lambda: 0.0)
    assert clock.sleeps == [7.0]  # jitter 0 but provider asked for 7 s


def test_deadline_stops_retrying():
    ch = ScriptedChannel({"a": [T] * 10})
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=10, base_delay=4.0, max_delay=100, deadline=10)
    results = send_with_retry(
        ch, [msg("a")], policy, sleep=clock.sleep, clock=clock, rand=lambda: 1.0
    )
    assert clock.sleeps == [4.0]  # the next wait (8 s) would pass the 10 s deadline
    assert results[0].attempts == 2


def test_permanent_failure_carries_the_result():
    r = Result.permanent_error(msg("a"), "UNREGISTERED", "token gone")
    with pytest.raises(PermanentFailure, match="UNREGISTERED") as exc:
        raise PermanentFailure(r)
    assert exc.value.result.permanent


def test_token_bucket_per_key_with_injectable_clock():
    clock = FakeClock()
    bucket = TokenBucket(capacity=2, per_seconds=60, clock=clock)
    assert bucket.try_acquire("138") is None
    assert bucket.try_acquire("138") is None
    wait = bucket.try_acquire("138")
    assert wait == pytest.approx(30.0)
    assert bucket.try_acquire("139") is None  # other numbers unaffected
    clock.now += 30
    assert bucket.try_acquire("138") is None
    assert bucket.try_acquire("138") is not None
