"""URLs of api.integrations.esupervision, mounted under /api/v1/.

Docs: docs/integrations.md#e-supervision.
"""

from django.urls import URLPattern, URLResolver, path

from api.integrations.esupervision import views

PREFIX = "integrations/esupervision"

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{PREFIX}/units/", views.UnitListView.as_view(), name="esupervision-units"),
    path(f"{PREFIX}/units/<int:pk>/", views.UnitDetailView.as_view(), name="esupervision-unit"),
    path(
        f"{PREFIX}/units/<int:pk>/items/",
        views.UnitItemsView.as_view(),
        name="esupervision-unit-items",
    ),
]
