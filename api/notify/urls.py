"""URLs of api.notify, mounted under /api/v1/. Docs: docs/notifications.md#http-api.

The live channel's routes (stream, stream ticket, Web Push key) are in
api/notify/urls_live.py, included here.
"""

from django.urls import URLPattern, URLResolver, include, path

from api.notify.views import notifications as views

urlpatterns: list[URLPattern | URLResolver] = [
    # The live channel: stream, stream ticket, Web Push key (docs/notifications.md).
    path("", include("api.notify.urls_live")),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        views.UnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all/",
        views.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/<int:pk>/trail/",
        views.NotificationTrailView.as_view(),
        name="notification-trail",
    ),
    path("me/devices/push/", views.DeviceListView.as_view(), name="push-device-list"),
    path("me/devices/push/<int:pk>/", views.DeviceDetailView.as_view(), name="push-device-detail"),
    path(
        "me/notification-preferences/",
        views.PreferenceView.as_view(),
        name="notification-preferences",
    ),
]
