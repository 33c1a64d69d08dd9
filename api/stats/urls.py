"""URLs of api.stats, mounted under /api/v1/. Docs: docs/supervision.md#statistics-api."""

from django.urls import URLPattern, URLResolver, path

from api.stats import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/units/", views.UnitStatsListView.as_view(), name="stats-units"),
    path("stats/units/<int:pk>/", views.UnitStatsDetailView.as_view(), name="stats-unit"),
    path("stats/units/<int:pk>/tasks/", views.UnitTasksView.as_view(), name="stats-unit-tasks"),
    path("stats/people/", views.PeopleStatsView.as_view(), name="stats-people"),
    path("stats/steps/", views.StepStatsView.as_view(), name="stats-steps"),
    path("stats/report.pdf", views.ReportPdfView.as_view(), name="stats-report-pdf"),
]
