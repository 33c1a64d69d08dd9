"""URLs of api.urging, mounted under /api/v1/. Docs: docs/urging.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.urging import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/<int:pk>/urge/", views.TaskUrgeView.as_view(), name="task-urge"),
    path("tasks/<int:pk>/urges/", views.TaskUrgeListView.as_view(), name="task-urges"),
    path("urges/", views.UrgeFeedView.as_view(), name="urge-list"),
]
