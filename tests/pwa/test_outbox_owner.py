"""The phone queue never drops an approval, and never sends it for someone else.

Docs: docs/pwa.md#offline-approvals. The leader's session is revoked on the server
(lost phone, "sign out everywhere") while the app still shows the to-do list; the
leader taps 同意: the app signs out, the sign-in page says 待登录后发送, and the item
stays queued for its owner. Another person signing in on the phone neither sees nor
sends it; when the leader signs in again it is sent once, with its key.
"""

from __future__ import annotations

import pytest

from tests.deploy.helpers import http
from tests.pwa.helpers import Person, one_tap_sends_at_once, sign_in
from tests.pwa.server import CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]

READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('govdesk', 1);
  open.onsuccess = () => {
    const get = open.result.transaction('outbox').objectStore('outbox').getAll();
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  };
  open.onerror = () => reject(open.error);
})"""


def test_revoked_session_queued_approval_is_sent_once_by_its_owner_only(server, phone):
    (document_id,) = server.seed_tasks(1)
    leader2 = Person(server.base, "leader2")
    task = leader2.task_for(document_id)
    assert task is not None
    one_tap_sends_at_once(phone)  # the tap goes to the server at once (no 撤销 window)
    page = phone.new_page()
    sign_in(page, server.base, "leader2")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.wait_for()

    # The phone's session is revoked elsewhere ("sign out all my other devices") while
    # the phone is out of coverage, so the app cannot learn of it (its live stream or a
    # fetch-ahead would sign it out first) before the leader taps: the tap is queued,
    # and the send when coverage returns is the first request to meet the revocation.
    phone.set_offline(True)
    status, _ = http(
        "POST",
        leader2.base + "/api/v1/sessions/revoke-all/",
        {"keep_current": True},
        headers=leader2.headers,
    )
    assert status == 200
    row.get_by_role("button", name="同意").tap()
    phone.set_offline(False)

    # Signed out; the approval is kept and the sign-in page says so (a count only).
    page.locator("#login-username").wait_for()
    page.get_by_test_id("waiting-for-sign-in").get_by_text("待登录后发送").wait_for()
    (item,) = page.evaluate(READ_OUTBOX)
    assert item["userId"] == leader2.id and item["status"] == "pending"
    assert leader2.task_for(document_id)["state"] == "open"

    # Someone else signs in on this phone: nothing of leader2's is shown or sent.
    sign_in(page, server.base, "leader1")
    assert page.get_by_test_id(f"outbox-{task['id']}").count() == 0
    (still,) = page.evaluate(READ_OUTBOX)
    assert (still["key"], still["status"], still["attempts"]) == (
        item["key"],
        "pending",
        item["attempts"],
    )
    assert leader2.task_for(document_id)["state"] == "open"
    assert Person(server.base, "leader1").task_for(document_id)["state"] == "open"

    # leader1 leaves; leader2 signs in again: sent at once, with the same key, once.
    page.evaluate("() => localStorage.removeItem('govdesk.session')")
    page.reload()  # leader1 is gone from this phone
    page.locator("#login-username").wait_for()
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith(f"/tasks/{task['id']}/approve/")
            else None
        ),
    )
    sign_in(page, server.base, "leader2")
    assert page.evaluate(READ_OUTBOX) == []
    assert leader2.task_for(document_id) is None
    assert len(leader2.approvals_by_me(document_id)) == 1
    assert keys == [item["key"]]
