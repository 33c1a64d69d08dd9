"""URLs of api.supervision, mounted under /api/v1/. Docs: docs/supervision.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.supervision import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("supervision/items/", views.ItemListView.as_view(), name="supervision-items"),
    path("supervision/items/<int:pk>/", views.ItemDetailView.as_view(), name="supervision-item"),
    path(
        "supervision/items/<int:pk>/milestones/",
        views.MilestonesView.as_view(),
        name="supervision-milestones",
    ),
    path(
        "supervision/items/<int:pk>/milestones/<int:milestone_id>/done/",
        views.MilestoneDoneView.as_view(),
        name="supervision-milestone-done",
    ),
    path(
        "supervision/items/<int:pk>/progress/",
        views.ProgressView.as_view(),
        name="supervision-progress",
    ),
    path("supervision/items/<int:pk>/urge/", views.UrgeView.as_view(), name="supervision-urge"),
    path("supervision/items/<int:pk>/close/", views.CloseView.as_view(), name="supervision-close"),
]
