"""System checks of the renderer (docs/rendering.md#fonts): a configured font file that
does not exist is an error at start-up (``documents.E010``); a missing free default
font is a warning (``documents.W010``) — the rest of GovDesk runs, rendering fails
with ``FontConfigError`` naming the setting. GOVDESK_RENDER_DIR may not overlap the
web root (``documents.E011``)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from api.documents.checks import _inside
from api.documents.rendering.fonts import problems


@register()
def rendering_fonts_exist(app_configs=None, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for font, message in problems():
        if font.configured:
            messages.append(
                Error(message, hint=f"Fix or unset {font.setting}.", id="documents.E010")
            )
        else:
            messages.append(
                Warning(
                    message,
                    hint="Install fonts-arphic-uming fonts-arphic-ukai fonts-wqy-microhei "
                    f"or set {font.setting}; rendering documents fails until then.",
                    id="documents.W010",
                )
            )
    return messages


@register()
def render_dir_outside_web_root(app_configs=None, **kwargs) -> list[CheckMessage]:
    directory = Path(settings.GOVDESK_RENDER_DIR)
    root = Path(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    if root and (_inside(directory, root) or _inside(root, directory)):
        return [
            Error(
                f"GOVDESK_RENDER_DIR ({directory}) overlaps the web root ({root}).",
                hint="Store rendered PDFs outside STATIC_ROOT.",
                id="documents.E011",
            )
        ]
    return []
