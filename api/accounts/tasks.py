"""Periodic clean-up of identity tables (docs/identity.md#housekeeping).

``flush_expired_tokens`` runs every six hours from beat (api/settings.py). It is
safe to run twice or concurrently: each step is a plain conditional DELETE.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.accounts import throttling
from api.accounts.models import UserSession


@shared_task(name="api.accounts.tasks.flush_expired_tokens")
def flush_expired_tokens() -> dict[str, int]:
    """simplejwt's ``flushexpiredtokens`` (expired outstanding tokens, with their
    blacklist rows), expired device sessions, and stale login-throttle rows."""
    now = timezone.now()
    tokens, _ = OutstandingToken.objects.filter(expires_at__lte=now).delete()
    sessions, _ = UserSession.objects.filter(expires_at__lte=now).delete()
    throttles, _ = throttling.stale_rows(now).delete()
    return {"tokens": tokens, "sessions": sessions, "throttles": throttles}


@shared_task(name="api.accounts.tasks.sweep_absences")
def sweep_absences() -> dict[str, int]:
    """Every minute from beat: fire ``absence_changed`` for absences whose start or
    end time has passed (docs/delegation.md#signal). Safe to run twice: each
    transition is claimed with a conditional UPDATE and sent once."""
    from api.accounts.actions.absence import sweep

    return sweep()
