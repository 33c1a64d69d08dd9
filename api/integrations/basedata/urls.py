"""URLs of api.integrations.basedata, mounted under /api/v1/.

Docs: docs/integrations.md#base-data.
"""

from django.urls import URLPattern, URLResolver, path

from api.integrations.basedata import views

P = "integrations/basedata/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{P}datasets/", views.DatasetListView.as_view(), name="basedata-datasets"),
    path(f"{P}datasets/<int:pk>/", views.DatasetDetailView.as_view(), name="basedata-dataset"),
    path(f"{P}datasets/<int:pk>/query/", views.DatasetQueryView.as_view(), name="basedata-query"),
    path(
        f"{P}access-requests/",
        views.AccessRequestListView.as_view(),
        name="basedata-access-requests",
    ),
    path(
        f"{P}access-requests/<int:pk>/",
        views.AccessRequestDetailView.as_view(),
        name="basedata-access-request",
    ),
    path(
        f"{P}access-requests/<int:pk>/approve/",
        views.ApproveView.as_view(),
        name="basedata-access-approve",
    ),
    path(
        f"{P}access-requests/<int:pk>/refuse/",
        views.RefuseView.as_view(),
        name="basedata-access-refuse",
    ),
    path(
        f"{P}access-requests/<int:pk>/revoke/",
        views.RevokeView.as_view(),
        name="basedata-access-revoke",
    ),
    path(f"{P}query-logs/", views.QueryLogListView.as_view(), name="basedata-query-logs"),
]
