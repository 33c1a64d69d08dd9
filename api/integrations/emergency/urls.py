"""URLs of api.integrations.emergency, mounted under /api/v1/.

Docs: docs/integrations.md#emergency.
"""

from django.urls import URLPattern, URLResolver, path

from api.integrations.emergency import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "integrations/emergency/duty/",
        views.DutyListView.as_view(),
        name="integrations-emergency-duty",
    ),
    path(
        "integrations/emergency/duty/<int:pk>/",
        views.DutyDetailView.as_view(),
        name="integrations-emergency-duty-detail",
    ),
    path(
        "integrations/emergency/handling/",
        views.HandlingListView.as_view(),
        name="integrations-emergency-handling",
    ),
    path(
        "integrations/emergency/handling/<int:pk>/",
        views.HandlingDetailView.as_view(),
        name="integrations-emergency-handling-detail",
    ),
    path(
        "integrations/emergency/handling/<int:pk>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="integrations-emergency-acknowledge",
    ),
]
