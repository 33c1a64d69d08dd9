"""The video connector's spec for the connector layer. Docs: docs/integrations.md#video-catalogue.

Outbound only: the layer's beat task pulls the platform's camera change feed from the
stored cursor every ``GOVDESK_INTEGRATION_VIDEO_PULL_SECONDS`` (default 300), receives
each change once (source id ``<camera id>@<revision>``) and ``sync.apply_camera`` stores
it. An unreachable platform is the layer's ``TransientError`` (retried with backoff); a
change the catalogue cannot store is a permanent error (dead letter, replayable).
"""

from __future__ import annotations

from api.integrations.registry import ConnectorSpec, PullContext, PullResult, register
from api.integrations.video import platform, sync

TITLE = "视频资源"


def pull(context: PullContext) -> PullResult:
    records, cursor, more = sync.fetch_page(context.http, context.cursor)
    return PullResult(records=records, cursor=cursor, more=more)


def register_spec() -> None:
    register(
        ConnectorSpec(
            name=platform.NAME,
            title=TITLE,
            handle=sync.apply_camera,
            pull=pull,
            pull_every_seconds=platform.PULL_SECONDS,
        )
    )
