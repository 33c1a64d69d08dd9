"""Password policy beyond Django's validators: character classes, and expiry.

Docs: docs/identity.md#password-policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from api.common.i18n import t


class CharacterClassValidator:
    """At least three of: lower case, upper case, digits, other characters (symbols,
    and letters without case such as Chinese characters)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not (c.islower() or c.isupper() or c.isdigit()) for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return t(
            "密码须包含大写字母、小写字母、数字、其他字符（符号、汉字）"
            f"中的至少 {self.min_classes} 类。",
            f"Use at least {self.min_classes} of: lower case, upper case, digits, "
            "other characters (symbols, Chinese characters).",
        )


def password_expired(user) -> bool:
    max_age = settings.GOVDESK_PASSWORD_MAX_AGE_DAYS
    if user.must_change_password:
        return True
    if max_age <= 0:
        return False
    return user.password_changed_at + timedelta(days=max_age) <= timezone.now()


def password_expires_at(user) -> datetime | None:
    """When the password stops working for login (None: it never expires)."""
    if user.must_change_password:
        return user.password_changed_at
    max_age = settings.GOVDESK_PASSWORD_MAX_AGE_DAYS
    if max_age <= 0:
        return None
    return user.password_changed_at + timedelta(days=max_age)


def new_password_errors(user, old_password: str, new_password: str) -> list[str]:
    """Messages (in the request's language) for a new password, empty when it is
    acceptable: AUTH_PASSWORD_VALIDATORS, and it must differ from the old one."""
    errors: list[str] = []
    if new_password == old_password:
        errors.append(
            t("新密码不能与当前密码相同。", "The new password must differ from the current one.")
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        errors.extend(str(m) for m in exc.messages)
    return errors
