"""The signed-in user of a request, typed: the one helper every view uses.

Docs: docs/api.md. Views run behind DRF's ``IsAuthenticated`` (the default permission),
so ``request.user`` is an ``api.accounts.models.User`` there. Only a type annotation
names the accounts app: api/common imports no app at run time (docs/architecture.md#layers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from api.accounts.models import User


def current_user(request: Any) -> User:
    """``request.user`` as the accounts ``User`` (DRF ``Request`` or Django ``HttpRequest``)."""
    return cast("User", request.user)
