"""System checks for the documents app. Docs: docs/documents.md#attachments.

Attachments and handwritten instructions (rendered PDFs: rendering/checks.py) must
never be reachable as static files: their directories may not overlap a web root
(api/common/checks.py).
"""

from __future__ import annotations

from django.core.checks import Error, register

from api.common.checks import outside_web_roots


@register()
def attachment_dir_outside_web_root(app_configs=None, **kwargs) -> list[Error]:
    return outside_web_roots(
        "GOVDESK_ATTACHMENT_DIR",
        "documents.E001",
        "Store attachments outside STATIC_ROOT, STATICFILES_DIRS and the PWA build.",
    )


@register()
def instruction_dir_outside_web_root(app_configs=None, **kwargs) -> list[Error]:
    return outside_web_roots(
        "GOVDESK_INSTRUCTION_DIR",
        "documents.E012",
        "Store handwritten instructions outside the web roots.",
    )
