"""URLs of api.integrations.video, mounted under /api/v1/. Docs: docs/integrations.md#video-api."""

from django.urls import URLPattern, URLResolver, path

from api.integrations.video import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("video/cameras/", views.CameraListView.as_view(), name="video-cameras"),
    path("video/cameras/<int:pk>/", views.CameraDetailView.as_view(), name="video-camera"),
    path("video/cameras/<int:pk>/play/", views.PlayView.as_view(), name="video-camera-play"),
    path("video/views/", views.ViewListView.as_view(), name="video-views"),
    path("video/views/<int:pk>/heartbeat/", views.HeartbeatView.as_view(), name="video-heartbeat"),
    path("video/views/<int:pk>/stop/", views.StopView.as_view(), name="video-stop"),
    path("video/grants/", views.GrantListView.as_view(), name="video-grants"),
    path(
        "video/grants/<int:pk>/revoke/", views.GrantRevokeView.as_view(), name="video-grant-revoke"
    ),
]
