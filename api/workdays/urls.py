"""Calendar routes under /api/v1/ (docs/workdays.md#api)."""

from django.urls import path

from api.workdays import views

urlpatterns = [
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path(
        "calendar/arrangements/",
        views.ArrangementListView.as_view(),
        name="calendar-arrangements",
    ),
    path("calendar/overrides/", views.OverrideListView.as_view(), name="calendar-overrides"),
    path(
        "calendar/overrides/<str:day>/",
        views.OverrideDetailView.as_view(),
        name="calendar-override-detail",
    ),
]
