"""Routes of the workflow templates admin API (docs/workflow.md#templates-api)."""

from django.urls import path

from api.workflow import views_templates as views

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
]
