"""Audit routes under /api/v1/ (docs/audit.md#supervisor-api)."""

from django.urls import path

from api.audit.views import AuditEventDetailView, AuditEventListView

urlpatterns = [
    path("audit/events/", AuditEventListView.as_view(), name="audit-events"),
    path("audit/events/<int:seq>/", AuditEventDetailView.as_view(), name="audit-event"),
]
