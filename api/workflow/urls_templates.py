"""Routes of the workflow templates admin API (docs/workflow.md#templates-api) and of a
unit's document time limits (docs/workflow.md#document-time-limits)."""

from django.urls import path

from api.workflow.views import templates as views
from api.workflow.views.time_limits import UnitTimeLimitsView

urlpatterns = [
    path("workflow-templates/", views.TemplateListView.as_view(), name="workflow-template-list"),
    path(
        "workflow-templates/<int:pk>/",
        views.TemplateDetailView.as_view(),
        name="workflow-template-detail",
    ),
    path(
        "workflow-templates/<int:pk>/deactivate/",
        views.TemplateDeactivateView.as_view(),
        name="workflow-template-deactivate",
    ),
    # A unit's document time limits (docs/workflow.md#document-time-limits).
    path("units/<int:pk>/time-limits/", UnitTimeLimitsView.as_view(), name="unit-time-limits"),
]
