"""System checks for seals. Docs: docs/seals.md#key-storage.

Keys and the CA must never be reachable as static files: GOVDESK_SEAL_DIR may not
overlap a web root (api/common/checks.py).
"""

from __future__ import annotations

from django.core.checks import Error, register

from api.common.checks import outside_web_roots


@register()
def seal_dir_outside_web_root(app_configs=None, **kwargs) -> list[Error]:
    return outside_web_roots(
        "GOVDESK_SEAL_DIR",
        "seals.E001",
        "Keep the seal CA and keys outside STATIC_ROOT, STATICFILES_DIRS and the PWA build.",
    )
