"""System checks for the documents app. Docs: docs/documents.md#attachments.

Attachments must never be reachable as static files: GOVDESK_ATTACHMENT_DIR may not
lie inside STATIC_ROOT (or any STATICFILES_DIRS entry).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


@register()
def attachment_dir_outside_web_root(app_configs=None, **kwargs) -> list[Error]:
    directory = Path(settings.GOVDESK_ATTACHMENT_DIR)
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    roots += [
        Path(str(d[1] if isinstance(d, tuple) else d))
        for d in getattr(settings, "STATICFILES_DIRS", [])
    ]
    errors = []
    for root in roots:
        if _inside(directory, root) or _inside(root, directory):
            errors.append(
                Error(
                    f"GOVDESK_ATTACHMENT_DIR ({directory}) overlaps the web root ({root}).",
                    hint="Store attachments outside STATIC_ROOT and STATICFILES_DIRS.",
                    id="documents.E001",
                )
            )
    return errors
