"""Absence routes under /api/v1/ (docs/delegation.md#absence-api)."""

from django.urls import path

from api.accounts.views import absences

urlpatterns = [
    path("me/absences/", absences.MyAbsencesView.as_view(), name="my-absences"),
    path("me/absences/<int:pk>/end/", absences.MyAbsenceEndView.as_view(), name="my-absence-end"),
    path(
        "me/absences/<int:pk>/cancel/",
        absences.MyAbsenceCancelView.as_view(),
        name="my-absence-cancel",
    ),
    path("users/<int:pk>/absences/", absences.UserAbsencesView.as_view(), name="user-absences"),
    path(
        "users/<int:pk>/absences/<int:absence_id>/end/",
        absences.UserAbsenceEndView.as_view(),
        name="user-absence-end",
    ),
    path(
        "users/<int:pk>/absences/<int:absence_id>/cancel/",
        absences.UserAbsenceCancelView.as_view(),
        name="user-absence-cancel",
    ),
]
