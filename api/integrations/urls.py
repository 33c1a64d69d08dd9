"""URLs of api.integrations, mounted under /api/v1/. Docs: docs/integrations.md#api."""

from django.urls import URLPattern, URLResolver, path, register_converter

from api.integrations import views


class ConnectorName:
    regex = "[a-z][a-z0-9]{1,39}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ConnectorName, "connector")

urlpatterns: list[URLPattern | URLResolver] = [
    path("integrations/", views.ConnectorListView.as_view(), name="integrations-connectors"),
    path(
        "integrations/dead-letters/<int:pk>/replay/",
        views.DeadLetterReplayView.as_view(),
        name="integrations-dead-letter-replay",
    ),
    path(
        "integrations/<connector:name>/events/",
        views.WebhookView.as_view(),
        name="integrations-webhook",
    ),
    path(
        "integrations/<connector:name>/dead-letters/",
        views.DeadLetterListView.as_view(),
        name="integrations-dead-letters",
    ),
]
