"""Walking a device through the API (docs/vpn.md#enrolling-a-phone)."""

from __future__ import annotations

from tests.personas import client_for


def request_device(user, **body) -> dict:
    response = client_for(user).post(
        "/api/v1/vpn/devices/", {"name": "手机", **body}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def approve(approver, device_id: int, **body) -> dict:
    response = client_for(approver).post(
        f"/api/v1/vpn/devices/{device_id}/approve/", body, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def enrolled(owner, approver, **body) -> dict:
    return approve(approver, request_device(owner, **body)["id"])


def issue_agent(it_admin, name: str = "gw1") -> str:
    response = client_for(it_admin).post("/api/v1/vpn/agents/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["credential"]
