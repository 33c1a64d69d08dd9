"""Backoff and lockout (docs/identity.md#lockout)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from api.accounts import throttling
from api.accounts.models import LoginThrottle
from api.audit.models import AuditEvent
from tests.api.accounts.identity.support import error_of, login
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

WRONG = "Wrong-Passw0rd!"


def _shape(response):
    return (
        response.status_code,
        response.json(),
        response.get("Retry-After") is not None,
    )


def _expire_locks():
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))


def test_lockout_after_max_failures(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    settings.GOVDESK_LOGIN_LOCKOUT_SECONDS = 600
    codes = [error_of(login(api, "bob", WRONG))["code"] for _ in range(3)]
    assert codes == ["invalid_credentials", "invalid_credentials", "account_locked"]
    locked = login(api, "bob")  # even the right password
    assert locked.status_code == 429
    assert error_of(locked)["code"] == "account_locked"
    assert 590 <= int(locked["Retry-After"]) <= 600
    assert error_of(locked)["retry_after"] == int(locked["Retry-After"])


def test_existing_and_unknown_users_lock_identically(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    existing = [_shape(login(api, "bob", WRONG, REMOTE_ADDR="127.0.0.2")) for _ in range(4)]
    existing.append(_shape(login(api, "bob", REMOTE_ADDR="127.0.0.2")))
    unknown = [_shape(login(api, "ghost", WRONG, REMOTE_ADDR="127.0.0.3")) for _ in range(4)]
    unknown.append(_shape(login(api, "ghost", "anything", REMOTE_ADDR="127.0.0.3")))
    assert existing == unknown
    assert [s[0] for s in existing] == [401, 401, 429, 429, 429]


def test_success_resets_the_username_counter(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        login(api, "bob", WRONG)
    assert login(api, "bob").status_code == 200
    assert not LoginThrottle.objects.filter(key=throttling.username_key("bob")).exists()
    # The address keeps its count: success from one account does not excuse spraying.
    assert LoginThrottle.objects.get(key="addr:127.0.0.1").failures == 2
    for _ in range(2):
        assert login(api, "bob", WRONG).status_code == 401


def test_username_key_ignores_case(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    login(api, "BOB", WRONG)
    assert error_of(login(api, "Bob", WRONG))["code"] == "account_locked"
    assert error_of(login(api, "bob"))["code"] == "account_locked"


def test_lock_expires_and_doubles_on_repeat(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    settings.GOVDESK_LOGIN_LOCKOUT_SECONDS = 100
    login(api, "bob", WRONG)
    first = login(api, "bob", WRONG)
    assert 99 <= int(first["Retry-After"]) <= 100
    _expire_locks()
    assert login(api, "bob", WRONG).status_code == 401
    second = login(api, "bob", WRONG)
    assert error_of(second)["code"] == "account_locked"
    assert 199 <= int(second["Retry-After"]) <= 200
    _expire_locks()
    assert login(api, "bob").status_code == 200


def test_lockout_length_is_bounded(settings):
    settings.GOVDESK_LOGIN_LOCKOUT_SECONDS = 900
    assert [throttling.lockout_seconds(n) for n in (1, 2, 3)] == [900, 1800, 3600]
    assert throttling.lockout_seconds(50) == throttling.MAX_LOCKOUT_SECONDS
    assert throttling.lockout_seconds(10_000) == throttling.MAX_LOCKOUT_SECONDS


def test_old_failures_are_forgotten(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    login(api, "bob", WRONG)
    long_ago = timezone.now() - timedelta(seconds=throttling.FAILURE_MEMORY_SECONDS + 60)
    LoginThrottle.objects.update(updated_at=long_ago)
    assert login(api, "bob", WRONG).status_code == 401  # counts as the first again
    assert LoginThrottle.objects.get(key=throttling.username_key("bob")).failures == 1


def test_source_address_is_locked_after_spraying(api, personas, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    limit = 2 * throttling.ADDRESS_FACTOR
    spray = "127.9.9.9"
    responses = [login(api, f"user{i}", WRONG, REMOTE_ADDR=spray) for i in range(limit)]
    assert error_of(responses[-1])["code"] == "account_locked"
    assert all(r.status_code == 401 for r in responses[:-1])
    # A real account from the same address is refused; from another address it works.
    assert error_of(login(api, "leo", REMOTE_ADDR=spray))["code"] == "account_locked"
    assert login(api, "leo", REMOTE_ADDR="127.0.0.8").status_code == 200


def test_failures_and_lockouts_are_audited(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    login(api, "bob", WRONG)
    login(api, "bob", WRONG)
    login(api, "bob")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "result", "detail"))
    assert actions == [
        ("auth.login_failed", "failed", {"reason": "bad_credentials"}),
        ("auth.login_failed", "failed", {"reason": "bad_credentials"}),
        ("auth.locked", "denied", {"key": "username", "seconds": 900, "failures": 2}),
        ("auth.login_failed", "denied", {"reason": "locked"}),
    ]


def test_username_keys_are_stored_hashed(api):
    login(api, "Some.Person", "typed-my-password-here")
    keys = list(LoginThrottle.objects.values_list("key", flat=True))
    assert all("some.person" not in k.lower() for k in keys)
    assert throttling.username_key("Some.Person") in keys


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    """Row locks make the counter exact when many processes fail at once."""
    keys = throttling.login_keys("racer", "10.0.0.1")
    workers = 8
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def fail_once():
        try:
            barrier.wait()
            with transaction.atomic():
                throttling.register_failure(keys)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail_once) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert LoginThrottle.objects.get(key=keys[0].key).failures == workers
    assert LoginThrottle.objects.get(key=keys[1].key).failures == workers
