"""HTTP API: my notifications, read marks, devices, preferences.

Docs: docs/notifications.md#http-api. Another user's notification or device is a 404
(recorded as denied); bad device data is a 400 with a stable code.
"""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from api.notify.actions import notify, register_device
from api.notify.models import Device, Notification
from tests.api.notify.conftest import fcm_token, webpush_subscription
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _notes(user, count: int, start: int = 0) -> list[Notification]:
    out = []
    for i in range(start, start + count):
        n = notify(recipient=user, kind="system", title=f"消息{i}", dedup_key=f"s:{i}")
        assert n is not None
        out.append(n)
    return out


def test_list_is_mine_newest_first_with_the_contract_fields(personas):
    bob, charlie = personas["bob"], personas["charlie"]
    mine = _notes(bob, 3)
    _notes(charlie, 2)
    body = client_for(bob).get("/api/v1/notifications/").json()
    assert [item["id"] for item in body["results"]] == [n.pk for n in reversed(mine)]
    assert set(body["results"][0]) == {
        "id",
        "kind",
        "title",
        "body",
        "task_id",
        "document_id",
        "urgency",
        "read_at",
        "created_at",
    }
    assert body["results"][0]["kind"] == "system" and body["results"][0]["read_at"] is None


def test_list_pages_with_a_cursor_and_filters_unread(personas):
    bob = personas["bob"]
    notes = _notes(bob, 5)
    client = client_for(bob)
    first = client.get("/api/v1/notifications/?page_size=2").json()
    second = client.get(first["next"]).json()
    ids = [i["id"] for i in first["results"] + second["results"]]
    assert ids == [n.pk for n in reversed(notes)][:4]
    client.post(f"/api/v1/notifications/{notes[0].pk}/read/")
    unread = client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert notes[0].pk not in [i["id"] for i in unread] and len(unread) == 4
    read = client.get("/api/v1/notifications/?unread=false").json()["results"]
    assert [i["id"] for i in read] == [notes[0].pk]
    bad = client.get("/api/v1/notifications/?unread=maybe")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_list_query_count_does_not_grow_with_rows(personas, django_assert_max_num_queries):
    bob = personas["bob"]
    client = client_for(bob)
    _notes(bob, 2)
    with django_assert_max_num_queries(6) as few:
        assert client.get("/api/v1/notifications/").status_code == 200
    _notes(bob, 40, start=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 42


def test_device_list_query_count_does_not_grow_with_rows(personas, django_assert_max_num_queries):
    bob = personas["bob"]
    client = client_for(bob)
    register_device(bob, kind="fcm", token=fcm_token())
    with django_assert_max_num_queries(6) as few:
        assert client.get("/api/v1/me/devices/push/").status_code == 200
    for _ in range(10):
        register_device(bob, kind="fcm", token=fcm_token())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/me/devices/push/").json()["results"]) == 11


def test_read_one_read_all_and_unread_count(personas):
    bob = personas["bob"]
    notes = _notes(bob, 3)
    client = client_for(bob)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}
    response = client.post(f"/api/v1/notifications/{notes[1].pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    again = client.post(f"/api/v1/notifications/{notes[1].pk}/read/")
    assert again.json()["read_at"] == response.json()["read_at"]  # idempotent
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    refused = client.post(f"/api/v1/notifications/{notes[0].pk}/read/", {"x": 1}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_field"


def test_another_users_notification_is_404_and_recorded(personas):
    [theirs] = _notes(personas["charlie"], 1)
    response = client_for(personas["bob"]).post(f"/api/v1/notifications/{theirs.pk}/read/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    denied = AuditEvent.objects.get(action="notify.read")
    assert denied.result == "denied" and denied.object_id == str(theirs.pk)
    missing = client_for(personas["bob"]).post("/api/v1/notifications/999999/read/")
    assert missing.status_code == 404


def test_register_fcm_device_then_refresh_it(personas):
    bob = personas["bob"]
    client = client_for(bob)
    token = fcm_token()
    body = {"kind": "fcm", "token": token, "label": "我的手机"}
    created = client.post("/api/v1/me/devices/push/", body, format="json")
    assert created.status_code == 201
    item = created.json()
    assert item["kind"] == "fcm" and item["enabled"] and "token" not in item
    again = client.post("/api/v1/me/devices/push/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == item["id"]
    assert Device.objects.get().token == token
    event = AuditEvent.objects.filter(action="notify.device_registered").last()
    assert event is not None and token not in str(event.detail)  # never the token


def test_register_webpush_subscription(personas):
    client = client_for(personas["bob"])
    sub = webpush_subscription()
    response = client.post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": sub}, format="json"
    )
    assert response.status_code == 201
    assert Device.objects.get().subscription == sub
    local = webpush_subscription("http://127.0.0.1:8025/webpush/x")  # test mode allows loopback
    ok = client.post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": local}, format="json"
    )
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "fcm", "token": "short"}, "push_token_invalid"),
        ({"kind": "fcm", "token": "x" * 120 + " y"}, "push_token_invalid"),
        ({"kind": "fcm"}, "push_token_invalid"),
        ({"kind": "webpush"}, "push_subscription_invalid"),
        ({"kind": "webpush", "subscription": "text"}, "push_subscription_invalid"),
        (
            {"kind": "webpush", "subscription": {"endpoint": "https://a.b/c"}},
            "push_subscription_invalid",
        ),
        ({"kind": "webpush", "subscription": "http"}, "push_subscription_invalid"),
        ({"kind": "push", "token": "x"}, "validation_error"),
        ({"kind": "fcm", "token": "x" * 150, "extra": 1}, "unknown_field"),
    ],
)
def test_bad_device_data_is_a_clear_400(personas, body, code):
    response = client_for(personas["bob"]).post("/api/v1/me/devices/push/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == code
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "keys", "code"),
    [
        ("http://push.example.com/x", None, "push_endpoint_not_allowed"),
        ("ftp://push.example.com/x", None, "push_endpoint_not_allowed"),
        ("https://user:pw@push.example.com/x", None, "push_endpoint_not_allowed"),
        ("https://fcm.googleapis.com/x", {"p256dh": "AAAA", "auth": "AAAA"}, "push_keys_invalid"),
        ("https://fcm.googleapis.com/x", {"p256dh": "!!!", "auth": "AAAA"}, "push_keys_invalid"),
        # An unbalanced IPv6 literal made urlsplit raise (a 500), a NUL reached the JSON
        # column that PostgreSQL refuses (a 500); a bad port or a control character
        # was stored and failed only at send time.
        ("https://[::1/x", None, "push_subscription_invalid"),
        ("https://push.example.com:99999999/x", None, "push_subscription_invalid"),
        ("https://push.example.com/\x00x", None, "push_subscription_invalid"),
        ("https://push.example.com/x\u202e", None, "push_subscription_invalid"),
    ],
)
def test_bad_subscriptions(personas, endpoint, keys, code):
    sub = webpush_subscription(endpoint)
    if keys is not None:
        sub["keys"] = keys
    response = client_for(personas["bob"]).post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": sub}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not Device.objects.exists()


def test_production_refuses_loopback_endpoints(personas, settings):
    settings.MODE = "production"
    settings.DEBUG = False
    sub = webpush_subscription("http://127.0.0.1:8025/webpush/x")
    response = client_for(personas["bob"]).post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": sub}, format="json"
    )
    assert response.json()["error"]["code"] == "push_endpoint_not_allowed"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.5/admin/reset",
        "https://192.168.1.1:8443/x",
        "https://[fd00::1]/x",
        "https://localhost/x",
        "https://127.0.0.1/x",
    ],
)
def test_production_refuses_endpoints_on_an_ip_address_or_localhost(personas, settings, endpoint):
    # The worker POSTs to the endpoint: an address on the intranet would let any user
    # aim it at an internal machine. Push services are named hosts.
    settings.MODE = "production"
    settings.DEBUG = False
    sub = webpush_subscription(endpoint)
    response = client_for(personas["bob"]).post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": sub}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "push_endpoint_not_allowed"
    assert not Device.objects.exists()
    named = webpush_subscription("https://fcm.googleapis.com/fcm/send/abc")
    assert (
        client_for(personas["bob"])
        .post("/api/v1/me/devices/push/", {"kind": "webpush", "subscription": named}, format="json")
        .status_code
        == 201
    )


def test_update_and_remove_my_device_but_not_anothers(personas):
    bob, charlie = personas["bob"], personas["charlie"]
    mine, _ = register_device(bob, kind="fcm", token=fcm_token())
    theirs, _ = register_device(charlie, kind="fcm", token=fcm_token())
    client = client_for(bob)
    url = f"/api/v1/me/devices/push/{mine.pk}/"
    patched = client.patch(url, {"push_enabled": False, "min_urgency": "high"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["push_enabled"], patched.json()["min_urgency"]) == (False, "high")
    assert (
        client.patch(url, {"token": "x"}, format="json").json()["error"]["code"] == "unknown_field"
    )
    other = f"/api/v1/me/devices/push/{theirs.pk}/"
    assert client.patch(other, {"label": "x"}, format="json").status_code == 404
    assert client.delete(other).status_code == 404
    assert Device.objects.filter(pk=theirs.pk).exists()
    assert client.delete(url).status_code == 204
    assert not Device.objects.filter(pk=mine.pk).exists()
    actions = list(AuditEvent.objects.values_list("action", "result"))
    assert ("notify.device_updated", "success") in actions
    assert ("notify.device_removed", "success") in actions
    assert ("notify.device_remove", "denied") in actions


def test_preferences_read_and_change(personas):
    client = client_for(personas["bob"])
    assert client.get("/api/v1/me/notification-preferences/").json() == {
        "push_enabled": True,
        "sms_enabled": True,
        "sms_very_urgent_at_night": True,
        "quiet_hours": "22:00-07:00",
        "mobile_number_invalid": False,
    }
    changed = client.patch(
        "/api/v1/me/notification-preferences/", {"sms_enabled": False}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["sms_enabled"] is False
    refused = client.patch(
        "/api/v1/me/notification-preferences/", {"quiet_hours": ""}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "unknown_field"
    assert AuditEvent.objects.filter(action="notify.preferences_changed").count() == 1


def test_anonymous_is_401(db):
    for path in ("/api/v1/notifications/", "/api/v1/me/devices/push/"):
        assert client_for(None).get(path).status_code == 401
