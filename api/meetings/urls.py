"""URLs of api.meetings, mounted under /api/v1/. Docs: docs/meetings.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.meetings.views import events
from api.meetings.views import meetings as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("meetings/", views.MeetingListView.as_view(), name="meetings"),
    path("meetings/janus-events/", events.JanusEventsView.as_view(), name="meetings-janus-events"),
    path("meetings/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<int:pk>/cancel/", views.CancelView.as_view(), name="meeting-cancel"),
    path("meetings/<int:pk>/end/", views.EndView.as_view(), name="meeting-end"),
    path("meetings/<int:pk>/lock/", views.LockView.as_view(), name="meeting-lock"),
    path("meetings/<int:pk>/attendees/", views.NominateView.as_view(), name="meeting-attendees"),
    path(
        "meetings/<int:pk>/participants/<int:participant_id>/remove/",
        views.RemoveParticipantView.as_view(),
        name="meeting-participant-remove",
    ),
    path(
        "meetings/<int:pk>/participants/<int:participant_id>/mute/",
        views.MuteParticipantView.as_view(),
        name="meeting-participant-mute",
    ),
    path("meetings/<int:pk>/signin/", views.SigninView.as_view(), name="meeting-signin"),
    path("meetings/<int:pk>/join/", views.JoinView.as_view(), name="meeting-join"),
    path(
        "meetings/<int:pk>/attendance/", views.AttendanceView.as_view(), name="meeting-attendance"
    ),
    path("meetings/<int:pk>/minutes/", views.MinutesView.as_view(), name="meeting-minutes"),
    path("meetings/<int:pk>/materials/", views.MaterialsView.as_view(), name="meeting-materials"),
    path(
        "meetings/<int:pk>/materials/<int:material_id>/",
        views.MaterialDetailView.as_view(),
        name="meeting-material",
    ),
]
