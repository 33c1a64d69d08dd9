"""``flush_expired_tokens`` (docs/identity.md#housekeeping): safe to run twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.accounts import throttling
from api.accounts.models import LoginThrottle, UserSession
from api.accounts.tasks import flush_expired_tokens
from api.accounts.tokens import blacklist_jtis, issue_tokens, open_session

pytestmark = pytest.mark.django_db


def test_flush_removes_only_what_expired(bob):
    now = timezone.now()
    live = open_session(bob)
    live_pair = issue_tokens(bob, live)
    dead = open_session(bob)
    issue_tokens(bob, dead)
    blacklist_jtis([dead.refresh_jti])
    UserSession.objects.filter(pk=dead.pk).update(expires_at=now - timedelta(seconds=1))
    OutstandingToken.objects.filter(jti=dead.refresh_jti).update(expires_at=now - timedelta(1))
    old = now - timedelta(seconds=throttling.FAILURE_MEMORY_SECONDS + 60)
    LoginThrottle.objects.create(key="addr:10.0.0.1", failures=3, updated_at=old)
    LoginThrottle.objects.create(
        key="addr:10.0.0.2", failures=5, updated_at=old, locked_until=now + timedelta(hours=1)
    )
    LoginThrottle.objects.create(key="addr:10.0.0.3", failures=1, updated_at=now)

    result = flush_expired_tokens.apply().get()

    assert result == {"tokens": 2, "sessions": 1, "throttles": 1}  # token + its blacklist row
    assert json.loads(json.dumps(result)) == result  # JSON task result
    assert list(UserSession.objects.values_list("pk", flat=True)) == [live.pk]
    assert OutstandingToken.objects.filter(jti=live.refresh_jti).exists()
    assert not BlacklistedToken.objects.exists()
    assert sorted(LoginThrottle.objects.values_list("key", flat=True)) == [
        "addr:10.0.0.2",
        "addr:10.0.0.3",
    ]
    assert live_pair.session.pk == live.pk
    # A second run finds nothing left to do.
    assert flush_expired_tokens.apply().get() == {"tokens": 0, "sessions": 0, "throttles": 0}


def test_task_is_scheduled(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "api.accounts.tasks.flush_expired_tokens" in schedule
    assert flush_expired_tokens.name == "api.accounts.tasks.flush_expired_tokens"
