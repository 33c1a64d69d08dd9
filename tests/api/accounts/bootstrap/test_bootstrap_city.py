"""manage.py bootstrap_city: first start of a production deployment."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from api.accounts.models import Role, RoleAssignment, Unit
from api.audit.models import AuditEvent

ARGS = [
    "--unit-name",
    "新城市人民政府",
    "--unit-code",
    "XC",
    "--username",
    "itadmin",
    "--display-name",
    "信息中心管理员",
]


@pytest.mark.django_db
def test_creates_root_unit_and_city_it_admin_once(monkeypatch):
    monkeypatch.setenv("GOVDESK_BOOTSTRAP_PASSWORD", "Xincheng!2026-admin")
    call_command("bootstrap_city", *ARGS)
    root = Unit.objects.get(code="XC")
    assert root.parent is None and root.path
    user = authenticate(username="itadmin", password="Xincheng!2026-admin")
    assert user is not None and user.unit == root
    assert RoleAssignment.objects.filter(user=user, role=Role.CITY_IT_ADMIN).exists()
    assert AuditEvent.objects.filter(action="system.bootstrapped").count() == 1

    with pytest.raises(CommandError, match="refused"):
        call_command("bootstrap_city", *[a.replace("itadmin", "second") for a in ARGS])
    assert Unit.objects.count() == 1
    assert AuditEvent.objects.filter(action="system.bootstrapped").count() == 1


@pytest.mark.django_db
def test_weak_password_is_refused_and_nothing_is_written(monkeypatch):
    monkeypatch.setenv("GOVDESK_BOOTSTRAP_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="password refused"):
        call_command("bootstrap_city", *ARGS)
    assert not Unit.objects.exists()
    assert not AuditEvent.objects.filter(action="system.bootstrapped").exists()


@pytest.mark.django_db
def test_without_password_and_terminal_it_refuses(monkeypatch):
    monkeypatch.delenv("GOVDESK_BOOTSTRAP_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: False)
    with pytest.raises(CommandError, match="GOVDESK_BOOTSTRAP_PASSWORD"):
        call_command("bootstrap_city", *ARGS)
