"""URLs of the live channel, included from api/notify/urls.py (under /api/v1/).

Docs: docs/notifications.md#live-channel-sse and #web-push.
"""

from django.urls import URLPattern, URLResolver, path

from api.notify.views import live as views_live

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "notifications/stream/",
        views_live.NotificationStreamView.as_view(),
        name="notification-stream",
    ),
    path(
        "notifications/stream-ticket/",
        views_live.StreamTicketView.as_view(),
        name="notification-stream-ticket",
    ),
    path(
        "notifications/webpush-key/",
        views_live.WebPushKeyView.as_view(),
        name="notification-webpush-key",
    ),
]
