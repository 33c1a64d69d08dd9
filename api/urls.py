"""URL map. Docs: docs/api.md. Everything under /api/v1/; schema and docs UI local."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.common import handlers
from api.common.health import HealthView

api_v1: list[URLPattern | URLResolver] = [
    path("health/", HealthView.as_view(), name="health"),
    path("", include("api.accounts.urls")),
    path("", include("api.audit.urls")),
    path("", include("api.documents.urls")),
    path("", include("api.workflow.urls_tasks")),
    path("", include("api.workflow.urls_templates")),
    path("", include("api.workdays.urls")),
    path("", include("api.seals.urls")),
    path("", include("api.notify.urls")),
    path("", include("api.urging.urls")),
    path("", include("api.vpn.urls")),
    path("", include("api.exchange.urls")),
    path("", include("api.supervision.urls")),
    path("", include("api.stats.urls")),
    path("", include("api.meetings.urls")),
    path("", include("api.office.urls")),
    path("", include("api.mail.urls")),
    path("", include("api.publishing.urls")),
    path("", include("api.portal.urls")),
    path("", include("api.submissions.urls")),
    path("", include("api.accountability.urls")),
    path("", include("api.integrations.urls")),
    path("", include("api.integrations.esupervision.urls")),
    path("", include("api.integrations.video.urls")),
    path("", include("api.integrations.citymgmt.urls")),
    path("", include("api.integrations.emergency.urls")),
    path("", include("api.integrations.basedata.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = handlers.bad_request
handler403 = handlers.permission_denied
handler404 = handlers.not_found
handler500 = handlers.server_error
