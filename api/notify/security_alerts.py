"""Security alerts to the city IT admins (docs/identity.md#lockout).

Listens to ``api.accounts.signals.login_ceiling_reached`` (sent after commit when an
account's failed sign-ins from every address cross GOVDESK_LOGIN_ACCOUNT_CEILING) and
writes one 系统消息 per city IT admin, de-duplicated per account and day. The account
is slowed down, never locked: the admins decide whether to act (unlock, reset, call).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from api.accounts.models import Role, User
from api.accounts.signals import login_ceiling_reached

logger = logging.getLogger(__name__)


def alert_city_it_admins(sender=None, *, username: str, failures: int, **kwargs) -> int:
    from api.notify.actions import Pending, notify_many

    admins = User.objects.filter(
        is_active=True, role_assignments__role=Role.CITY_IT_ADMIN
    ).distinct()
    day = timezone.localdate().isoformat()
    items = [
        Pending(
            recipient=admin,
            kind="system",
            title=f"账号 {username} 登录失败次数异常（{failures} 次），已自动减速",
            body="多个来源地址的登录失败超过上限。账号未被锁定；请核实并视情况联系本人。",
            urgency="high",
            dedup_key=f"login-ceiling:{username[:100]}:{day}",
        )
        for admin in admins
    ]
    if not items:
        return 0
    with transaction.atomic():
        return len(notify_many(items))


login_ceiling_reached.connect(alert_city_it_admins, dispatch_uid="notify-login-ceiling")
