"""Password policy beyond Django's validators: character classes, and expiry.

Docs: docs/security.md#password-policy.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from api.common.i18n import t


class CharacterClassValidator:
    """At least three of: lower case, upper case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return t(
            f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。",
            f"Use at least {self.min_classes} of: lower case, upper case, digits, symbols.",
        )


def password_expired(user) -> bool:
    max_age = settings.GOVDESK_PASSWORD_MAX_AGE_DAYS
    if user.must_change_password:
        return True
    if max_age <= 0:
        return False
    return user.password_changed_at + timedelta(days=max_age) <= timezone.now()
