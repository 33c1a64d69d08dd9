"""System checks of the renderer (docs/rendering.md#fonts): a configured font file that
does not exist is an error at start-up (``documents.E010``); a missing free default
font is a warning (``documents.W010``) — the rest of GovDesk runs, rendering fails
with ``FontConfigError`` naming the setting. GOVDESK_RENDER_DIR may not overlap the
web root (``documents.E011``)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning, register

from api.common.checks import outside_web_roots
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
    return list(
        outside_web_roots(
            "GOVDESK_RENDER_DIR",
            "documents.E011",
            "Store rendered and signed PDFs outside the web roots.",
        )
    )
