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


def test_success_resets_the_account_counter_at_that_address(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        login(api, "bob", WRONG)
    assert login(api, "bob").status_code == 200
    pair = throttling.pair_prefix("bob") + "127.0.0.1"
    assert not LoginThrottle.objects.filter(key=pair).exists()
    # The address keeps its count: success from one account does not excuse spraying;
    # the account-wide count decays on its own (a guesser elsewhere is not excused).
    assert LoginThrottle.objects.get(key="addr:127.0.0.1").failures == 2
    assert LoginThrottle.objects.get(key=throttling.username_key("bob")).failures == 2
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
    settings.GOVDESK_LOGIN_ADDRESS_MAX_FAILURES = limit = 8
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
        ("auth.locked", "denied", {"key": "account_address", "seconds": 900, "failures": 2}),
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
    for login_key in keys:
        assert LoginThrottle.objects.get(key=login_key.key).failures == workers


# --- Lockout without denial of service (docs/identity.md#lockout) -------------------------


@pytest.fixture
def leo(personas):
    return personas["leo"]


def test_five_wrong_passwords_from_one_address_do_not_stop_the_owner_elsewhere(api, leo):
    attacker = "127.66.0.5"
    codes = [error_of(login(api, "leo", WRONG, REMOTE_ADDR=attacker))["code"] for _ in range(5)]
    assert codes[-1] == "account_locked"
    # The attacker's address is locked for this account, even with the right password...
    assert error_of(login(api, "leo", REMOTE_ADDR=attacker))["code"] == "account_locked"
    # ...while the owner at their desk signs in.
    assert login(api, "leo", REMOTE_ADDR="127.1.2.3").status_code == 200


def test_the_account_ceiling_slows_down_unknown_addresses_and_alerts(
    api, leo, personas, settings, django_capture_on_commit_callbacks
):
    from api.notify.models import Notification

    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    settings.GOVDESK_LOGIN_ACCOUNT_CEILING = 6
    assert login(api, "leo", REMOTE_ADDR="127.1.2.3").status_code == 200  # the owner's desk
    # A distributed guesser: two failures from each of four addresses (no pair locks).
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            for _ in range(2):
                login(api, "leo", WRONG, REMOTE_ADDR=f"127.99.0.{i}")
    account = LoginThrottle.objects.get(key=throttling.username_key("leo"))
    # The 8th attempt already met the slowdown (1 s after the 7th), so was not counted.
    assert account.failures == 7 and account.locked_until is not None
    # A new address is slowed down (429 with a short Retry-After), never locked for long.
    slowed = login(api, "leo", REMOTE_ADDR="127.99.1.1")
    assert error_of(slowed)["code"] == "account_locked"
    assert 1 <= int(slowed["Retry-After"]) <= settings.GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS
    # The owner from an address they signed in from is not slowed down at all.
    assert login(api, "leo", REMOTE_ADDR="127.1.2.3").status_code == 200
    ceiling = AuditEvent.objects.filter(action="auth.account_ceiling")
    assert ceiling.count() == 1
    assert Notification.objects.filter(
        recipient=personas["ivy"], kind="system", title__contains="leo"
    ).exists()


def test_slowdown_is_progressive_and_bounded(settings):
    settings.GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS = 60
    assert [throttling.slowdown_seconds(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert throttling.slowdown_seconds(100) == 60


def test_city_it_admin_unlocks_an_account(api, leo, personas):
    from tests.personas import client_for

    for _ in range(5):
        login(api, "leo", WRONG, REMOTE_ADDR="127.66.0.5")
    assert error_of(login(api, "leo", REMOTE_ADDR="127.66.0.5"))["code"] == "account_locked"
    refused = client_for(personas["alice"]).post(
        "/api/v1/auth/unlock/", {"username": "leo"}, format="json"
    )
    assert refused.status_code == 403
    unlocked = client_for(personas["ivy"]).post(
        "/api/v1/auth/unlock/", {"username": "leo"}, format="json"
    )
    assert unlocked.status_code == 200 and unlocked.json()["cleared"] >= 2
    assert login(api, "leo", REMOTE_ADDR="127.66.0.5").status_code == 200
    assert AuditEvent.objects.filter(action="auth.unlocked", actor_id=personas["ivy"].pk).exists()
    assert AuditEvent.objects.filter(action="auth.unlock", result="denied").exists()


def test_three_hundred_users_behind_one_address_all_sign_in(api, org, settings):
    """A NAT of hundreds: the per-address throttle at its default rate lets every one
    of them sign in (counts successes; no timing)."""
    from django.core.cache import cache

    from api.accounts.models import User
    from tests.personas import PASSWORD

    cache.clear()
    # The production default (api/settings.py), not the suite's relaxed one.
    default_rate = "1200/min"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": default_rate},
    }
    users = [
        User.objects.create_user(username=f"nat{i:03d}", password=PASSWORD, unit=org.office)
        for i in range(300)
    ]
    statuses = [login(api, user.username, REMOTE_ADDR="127.200.0.1").status_code for user in users]
    assert statuses.count(200) == 300
