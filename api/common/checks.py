"""Private directories stay out of every web root. Docs: docs/operations.md#settings.

Shared by the system checks of the apps that keep files nobody may fetch as a static
file (attachments, rendered and signed PDFs, instruction images, the seal CA and keys).
A web root is STATIC_ROOT, every STATICFILES_DIRS entry and WHITENOISE_ROOT (the PWA
build served at /).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def web_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    roots += [
        Path(str(d[1] if isinstance(d, tuple) else d))
        for d in getattr(settings, "STATICFILES_DIRS", [])
    ]
    pwa_root = getattr(settings, "WHITENOISE_ROOT", None)
    if pwa_root:
        roots.append(Path(pwa_root))
    return roots


def outside_web_roots(setting: str, check_id: str, hint: str) -> list[Error]:
    """One error per web root that the directory in ``settings.<setting>`` overlaps
    (inside it, or containing it)."""
    directory = Path(getattr(settings, setting))
    return [
        Error(f"{setting} ({directory}) overlaps the web root ({root}).", hint=hint, id=check_id)
        for root in web_roots()
        if _inside(directory, root) or _inside(root, directory)
    ]
