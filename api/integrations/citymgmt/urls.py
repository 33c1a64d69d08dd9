"""URLs of api.integrations.citymgmt, mounted under /api/v1/.

Docs: docs/integrations.md#city-management.
"""

from django.urls import URLPattern, URLResolver, path

from api.integrations.citymgmt import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "integrations/citymgmt/stats/",
        views.StatsView.as_view(),
        name="integrations-citymgmt-stats",
    ),
]
