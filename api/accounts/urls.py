"""Account and organisation routes, split by resource (docs/api.md)."""

from django.urls import include, path

urlpatterns = [
    path("", include("api.accounts.urls_identity")),
    path("", include("api.accounts.urls_passkeys")),
    path("", include("api.accounts.urls_org")),
    path("", include("api.accounts.urls_absences")),
]
