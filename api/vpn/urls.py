"""URLs of api.vpn, mounted under /api/v1/. Docs: docs/vpn.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.vpn import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("vpn/devices/", views.DeviceListView.as_view(), name="vpn-device-list"),
    path("vpn/devices/<int:pk>/", views.DeviceDetailView.as_view(), name="vpn-device-detail"),
    path(
        "vpn/devices/<int:pk>/approve/",
        views.DeviceApproveView.as_view(),
        name="vpn-device-approve",
    ),
    path(
        "vpn/devices/<int:pk>/revoke/", views.DeviceRevokeView.as_view(), name="vpn-device-revoke"
    ),
    path(
        "vpn/devices/<int:pk>/config/", views.DeviceConfigView.as_view(), name="vpn-device-config"
    ),
    path("vpn/connections/", views.ConnectionListView.as_view(), name="vpn-connections"),
    path("vpn/whoami/", views.WhoAmIView.as_view(), name="vpn-whoami"),
    path("vpn/agents/", views.AgentCredentialListView.as_view(), name="vpn-agent-list"),
    path(
        "vpn/agents/<int:pk>/revoke/",
        views.AgentCredentialRevokeView.as_view(),
        name="vpn-agent-revoke",
    ),
    path("vpn/agent/peers/", views.AgentPeerListView.as_view(), name="vpn-agent-peers"),
    path("vpn/agent/status/", views.AgentStatusView.as_view(), name="vpn-agent-status"),
]
