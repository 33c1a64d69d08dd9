"""URLs of api.accountability, mounted under /api/v1/. Docs: docs/accountability.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.accountability import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("accountability/cases/", views.CaseListView.as_view(), name="accountability-cases"),
    path(
        "accountability/cases/<int:pk>/",
        views.CaseDetailView.as_view(),
        name="accountability-case",
    ),
    path(
        "accountability/cases/<int:pk>/findings/",
        views.FindingsView.as_view(),
        name="accountability-findings",
    ),
    path(
        "accountability/cases/<int:pk>/decide/",
        views.DecideView.as_view(),
        name="accountability-decide",
    ),
]
