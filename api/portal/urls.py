"""URLs of api.portal, mounted under /api/v1/. Docs: docs/portal.md."""

from django.urls import URLPattern, URLResolver, path

from api.portal import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/", views.PortalView.as_view(), name="portal"),
    path("portal/preferences/", views.PreferencesView.as_view(), name="portal-preferences"),
]
