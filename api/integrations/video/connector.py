"""The video connector's spec for the connector layer. Docs: docs/integrations.md#video-catalogue.

Outbound only: the layer's beat task pulls the platform's camera change feed from the
stored cursor every ``GOVDESK_INTEGRATION_VIDEO_PULL_SECONDS`` (default 300), receives
each change once (source id ``<camera id>@<revision>``) and ``sync.apply_camera`` stores
it. An unreachable platform is the layer's ``TransientError`` (retried with backoff); a
change the catalogue cannot store is a permanent error (dead letter, replayable).
"""

from __future__ import annotations

from typing import Any

from api.integrations.video import platform, sync

NAME = "video"
TITLE = "视频资源"


def pull(context: Any) -> Any:
    from api.integrations.errors import TransientError
    from api.integrations.registry import PullResult

    try:
        records, cursor, more = sync.fetch_page(context.cursor)
    except platform.PlatformUnavailable as exc:
        raise TransientError(str(exc)) from exc
    return PullResult(records=records, cursor=cursor, more=more)


def register() -> None:
    try:
        from api.integrations.registry import ConnectorSpec
        from api.integrations.registry import register as register_spec
    except ImportError:  # the connector layer is not in this branch yet: nothing to join
        return
    register_spec(
        ConnectorSpec(
            name=NAME,
            title=TITLE,
            handle=sync.apply_camera,
            pull=pull,
            pull_every_seconds=300,
        )
    )
