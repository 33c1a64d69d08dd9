"""System checks for seals. Docs: docs/seals.md#key-storage.

Keys and the CA must never be reachable as static files: GOVDESK_SEAL_DIR may not
overlap STATIC_ROOT (or any STATICFILES_DIRS entry).
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
def seal_dir_outside_web_root(app_configs=None, **kwargs) -> list[Error]:
    directory = Path(settings.GOVDESK_SEAL_DIR)
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    roots += [
        Path(str(d[1] if isinstance(d, tuple) else d))
        for d in getattr(settings, "STATICFILES_DIRS", [])
    ]
    return [
        Error(
            f"GOVDESK_SEAL_DIR ({directory}) overlaps the web root ({root}).",
            hint="Keep the seal CA and keys outside STATIC_ROOT and STATICFILES_DIRS.",
            id="seals.E001",
        )
        for root in roots
        if _inside(directory, root) or _inside(root, directory)
    ]
