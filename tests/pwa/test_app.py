"""The PWA in Debian's Chromium at a phone viewport, against a real server.

Docs: docs/pwa.md#browser-tests. One gunicorn server for the module (tests/pwa/server.py,
its own SQLite database) with four demo documents (leader1–3 each hold a 会签 task of
each). Every test uses a fresh browser context (390×844, touch, is_mobile) and checks
the outcome through the API, not only on the screen:

* leader1 signs in, sees the demo task in 待办 and approves it with one tap;
* leader1 approves offline: 待发送, still open on the server; back online it is sent
  and the server holds exactly one approval by leader1;
* an approval queued offline for a task that is withdrawn meanwhile (someone else
  acted) is shown plainly as not sent, and the server records no approval;
* leader2 registers a passkey (Chromium's virtual authenticator over CDP) and approves
  with a WebAuthn step-up: the trail says confirmed_with "passkey"; then signs out
  and back in with the passkey alone;
* the manifest is installable (name, icons incl. maskable, standalone), the service
  worker controls the page, and an offline reload still shows the app shell;
* large-font mode enlarges every visible text on the main screens; an error page
  without the envelope and a request that never answers are said plainly (no endless
  spinner, no "nothing to do"); a refusal the server keeps per key is shown as not
  sent and not retried; an approval queued when the session ended is sent after
  signing in again; a draft and its submission whose answers are lost are sent
  again with the same Idempotency-Key and happen once; axe-core finds no WCAG 2
  A/AA violation on the main screens.

Skipped, with the reason printed, only when /usr/bin/chromium is missing
(.ci/run installs it).
"""

from __future__ import annotations

import json
import struct
import urllib.parse
import urllib.request

import pytest

from tests.deploy.helpers import http
from tests.pwa.helpers import Person, one_tap_sends_at_once, sign_in
from tests.pwa.server import CHROMIUM, PHONE, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]


@pytest.fixture(autouse=True)
def _taps_send_at_once(phone):
    """These tests check what a tap sends; the undo window is switched off."""
    one_tap_sends_at_once(phone)


def test_login_shows_the_demo_task_and_one_tap_approves_it(server, phone):
    leader1 = Person(server.base, "leader1")
    document_id = server.documents[0]
    task = leader1.task_for(document_id)
    assert task is not None and task["state"] == "open"

    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_text("关于做好冬季安全生产工作的通知").wait_for()
    row.get_by_role("button", name="同意").tap()  # the one tap
    row.wait_for(state="detached")

    assert leader1.task_for(document_id) is None
    done = leader1.task_for(document_id, state="done")
    assert done is not None and done["state"] == "done"
    approvals = leader1.approvals_by_me(document_id)
    assert [a["opinion"] for a in approvals] == ["同意"]  # once, the step's standard opinion


def test_offline_approval_waits_as_pending_and_syncs_exactly_once(server, phone):
    leader1 = Person(server.base, "leader1")
    document_id = server.documents[1]
    task = leader1.task_for(document_id)
    assert task is not None

    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_role("button", name="同意").wait_for()

    phone.set_offline(True)
    page.get_by_role("status").filter(has_text="离线").wait_for()  # the offline banner
    row.get_by_role("button", name="同意").tap()
    pending = page.get_by_test_id(f"outbox-{task['id']}")
    pending.get_by_text("待发送").first.wait_for()
    row.get_by_text("待发送").wait_for()  # the row says 待发送, never 已同意
    page.wait_for_timeout(1500)
    assert leader1.task_for(document_id)["state"] == "open"  # nothing reached the server
    stored = page.evaluate(
        """() => new Promise((resolve) => {
             const open = indexedDB.open('govdesk');
             open.onsuccess = () => {
               const get = open.result.transaction('outbox').objectStore('outbox').getAll();
               get.onsuccess = () => resolve(get.result);
             };
           })"""
    )
    assert [(i["taskId"], i["status"]) for i in stored] == [(task["id"], "pending")]
    assert stored[0]["key"].startswith("pwa-")  # the Idempotency-Key travels with it

    phone.set_offline(False)  # the online event sends the queue
    pending.wait_for(state="detached", timeout=30_000)
    row.wait_for(state="detached")
    assert leader1.task_for(document_id) is None
    assert len(leader1.approvals_by_me(document_id)) == 1

    # The same key again (a retry whose answer was lost) is a replay, not a second act.
    status, body = http(
        "POST",
        leader1.base + f"/api/v1/tasks/{task['id']}/approve/",
        headers={**leader1.headers, "Idempotency-Key": stored[0]["key"]},
    )
    assert status == 200, body
    assert len(leader1.approvals_by_me(document_id)) == 1


def test_a_queued_approval_for_a_task_someone_else_closed_is_shown_as_not_sent(server, phone):
    leader1, director = Person(server.base, "leader1"), Person(server.base, "director")
    document_id = server.documents[3]
    task = leader1.task_for(document_id)
    assert task is not None

    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_role("button", name="同意").wait_for()
    phone.set_offline(True)
    row.get_by_role("button", name="同意").tap()
    outbox = page.get_by_test_id(f"outbox-{task['id']}")
    outbox.get_by_text("待发送").first.wait_for()

    # Meanwhile the director, whose approval opened the countersign step, withdraws it.
    status, body = http(
        "POST",
        director.base + f"/api/v1/documents/{document_id}/withdraw/",
        headers={**director.headers, "Idempotency-Key": "pwa-test-withdraw-1"},
    )
    assert status == 200, body

    phone.set_offline(False)
    outbox.get_by_role("alert").filter(has_text="未能发送").wait_for(timeout=30_000)
    assert "已被他人处理" in outbox.inner_text()
    assert leader1.approvals_by_me(document_id) == []
    page.reload()  # the refusal is kept (IndexedDB) until the person dismisses it
    outbox.get_by_role("button", name="知道了").tap()
    outbox.wait_for(state="detached")


def _passkeys_available(base: str) -> bool:
    leader = Person(base, "leader3")
    status, _ = http("GET", leader.base + "/api/v1/me/passkeys/", headers=leader.headers)
    return status == 200


def test_register_a_passkey_and_approve_with_step_up(server, phone):
    if not _passkeys_available(server.base):
        pytest.skip(
            "the passkey API (docs/webauthn contract, helper PASSKEYS) is not in this build"
        )
    leader2 = Person(server.base, "leader2")
    document_id = server.documents[2]
    task = leader2.task_for(document_id)
    assert task is not None

    page = phone.new_page()
    cdp = phone.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in(page, server.base, "leader2")
    page.goto(server.base + "/#/me")
    page.get_by_role("button", name="添加本机通行密钥").tap()
    page.get_by_text("添加于").first.wait_for()
    listed = leader2.get("/api/v1/me/passkeys/")
    rows = listed if isinstance(listed, list) else listed["results"]
    assert len(rows) == 1  # registered on the server, not only shown

    page.goto(server.base + "/#/todo")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_role("button", name="同意").tap()
    row.wait_for(state="detached")

    entries = [
        e
        for e in leader2.get(f"/api/v1/documents/{document_id}/trail/")["entries"]
        if e["task_id"] == task["id"]
    ]
    assert entries and entries[0]["action"] == "approve"
    assert entries[0].get("confirmed_with") == "passkey"

    # Sign out, then in again with the passkey alone (discoverable credential).
    page.goto(server.base + "/#/me")
    page.get_by_role("button", name="退出登录").tap()
    page.get_by_role("dialog").get_by_role("button", name="确认").tap()  # asked first
    page.get_by_role("button", name="使用通行密钥登录").tap()
    page.get_by_role("navigation").wait_for()
    assert page.url.endswith("#/todo")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_manifest_service_worker_and_offline_shell(server, phone):
    base = server.base.replace("localhost", "127.0.0.1")
    with urllib.request.urlopen(base + "/manifest.webmanifest", timeout=10) as response:
        manifest = json.loads(response.read())
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Content-Type"].startswith("application/manifest+json")
    assert manifest["name"] == "协同办公" and manifest["short_name"]
    assert manifest["display"] == "standalone" and manifest["start_url"] and manifest["theme_color"]
    purposes = set()
    for icon in manifest["icons"]:
        with urllib.request.urlopen(base + icon["src"], timeout=10) as response:
            width, height = _png_size(response.read())
        assert f"{width}x{height}" == icon["sizes"]
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    } <= purposes

    page = phone.new_page()
    page.goto(server.base + "/")
    page.get_by_role("button", name="登录", exact=True).wait_for()
    html = page.content()
    assert 'rel="manifest"' in html
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == server.base + "/"
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()  # clientsClaim normally takes the page over; a reload surely does
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    asset = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".find(n => n.includes('/assets/'))"
    )
    with urllib.request.urlopen(asset.replace("localhost", "127.0.0.1"), timeout=10) as response:
        assert "immutable" in response.headers["Cache-Control"]

    # Offline: every request the page sends to the network fails. (Playwright's
    # set_offline also cuts the service worker's own cache answers to navigations in
    # this Chromium, so the page's requests are aborted instead: docs/pwa.md#browser-tests.)
    page.route("**/*", lambda route: route.abort("internetdisconnected"))
    response = page.reload()
    assert response is not None and response.from_service_worker
    page.get_by_role("button", name="登录", exact=True).wait_for()  # the app shell
    assert "协同办公" in page.title()


# --- A leader on a phone: errors said plainly, no endless spinner, refusals not
# retried for ever, large-font mode. These use leader3, whose tasks the tests above
# leave open. Some answers are made in the browser with page.route (a proxy's 502
# page, a connection that never answers, a refusal the server remembers per key),
# because a real server cannot be made to give them on cue.

TEXT_SIZES = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    const hidden = !box.width || !box.height || getComputedStyle(el).visibility === 'hidden';
    if (!ownText || hidden) continue;
    out.push([el, parseFloat(getComputedStyle(el).fontSize)]);
  }
  return out;
}"""

NOT_ENLARGED = """(sizesBefore) => {
  document.documentElement.classList.add('large-font');
  const after = new Map((TEXT_SIZES)().map(([el, size]) => [el, size]));
  const name = (el) => `${el.className || el.tagName} "${el.textContent.trim().slice(0, 20)}"`;
  return sizesBefore
    .filter(([el, before]) => after.has(el) && !(after.get(el) > before))
    .map(([el, before]) => `${name(el)} ${before}px`);
}""".replace("TEXT_SIZES", TEXT_SIZES)


def _not_enlarged(page) -> list[str]:
    page.evaluate("() => document.documentElement.classList.remove('large-font')")
    before = page.evaluate_handle(TEXT_SIZES)
    return page.evaluate(NOT_ENLARGED, before)


def test_large_font_mode_enlarges_every_text_on_the_main_screens(server, phone):
    leader3 = Person(server.base, "leader3")
    task = leader3.task_for(server.documents[0])
    assert task is not None
    page = phone.new_page()
    sign_in(page, server.base, "leader3")

    page.goto(server.base + "/#/me")
    page.get_by_role("switch", name="大字模式").tap()
    page.wait_for_function("() => document.documentElement.classList.contains('large-font')")
    assert page.evaluate("() => localStorage.getItem('govdesk.largeFont')") == "1"

    for route, ready in (
        ("/#/todo", f"[data-testid='task-{task['id']}']"),
        (f"/#/tasks/{task['id']}", ".trail-opinion"),  # the document and the opinions
        ("/#/me", ".section-title"),
    ):
        page.goto(server.base + route)
        page.locator(ready).first.wait_for()
        assert _not_enlarged(page) == [], route


def test_no_list_is_claimed_empty_and_no_spinner_runs_for_ever(server, phone):
    leader3 = Person(server.base, "leader3")
    task = leader3.task_for(server.documents[0])
    page = phone.new_page()
    page.clock.install()
    sign_in(page, server.base, "leader3")
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    page.evaluate("id => localStorage.removeItem('govdesk.todo.' + id)", leader3.id)

    # A proxy's error page (no JSON envelope): said plainly, the list unknown.
    page.route(
        "**/api/v1/tasks/?state=todo*",
        lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>502</h1>"),
    )
    page.reload()
    error = page.get_by_role("status").filter(has_text="服务器暂时无法处理")
    error.wait_for()
    assert "HTTP 502" in error.inner_text() and "http_502" not in error.inner_text()
    assert page.get_by_text("没有待办").count() == 0  # never "nothing to do" when unknown
    page.unroute("**/api/v1/tasks/?state=todo*")
    error.get_by_role("button", name="重试").tap()
    page.get_by_test_id(f"task-{task['id']}").wait_for()

    # A connection that never answers: the task screen gives up and says so (with no
    # copy kept for reading offline, which it would show instead). The list just loaded
    # fetches ahead (lib/reading.js): wait until it has kept this task (the reading index
    # is written after the copy), so the copy removed here is not put back afterwards.
    page.wait_for_function(
        """([user, task]) => ((JSON.parse(localStorage.getItem('govdesk.reading.' + user)
             || '{}')[task] || {}).urls || []).includes(`/api/v1/tasks/${task}/`)""",
        arg=[leader3.id, task["id"]],
    )
    page.evaluate("() => caches.keys().then(ks => Promise.all(ks.map(k => caches.delete(k))))")
    hung = []
    page.route(f"**/api/v1/tasks/{task['id']}/", lambda route: hung.append(route))
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.get_by_text("加载中").wait_for()
    while not hung:  # the request is out (and its timer set) before time moves on
        page.wait_for_timeout(100)
    page.clock.fast_forward("00:31")
    alert = page.get_by_role("alert").filter(has_text="网络超时")  # not "offline"
    alert.wait_for()
    assert page.get_by_text("加载中").count() == 0
    page.unroute(f"**/api/v1/tasks/{task['id']}/")
    alert.get_by_role("button", name="重试").tap()
    page.locator(".trail-opinion").first.wait_for()


def test_a_refusal_the_server_keeps_for_the_key_is_shown_not_retried(server, phone):
    # The server remembers a 4xx per Idempotency-Key (api/common/idempotency.py), so
    # sending again cannot change it: shown as not sent, never 待发送 for ever.
    leader3 = Person(server.base, "leader3")
    task = leader3.task_for(server.documents[1])
    assert task is not None
    page = phone.new_page()
    sign_in(page, server.base, "leader3")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_role("button", name="同意").wait_for()

    sent = []

    def refuse(route):
        sent.append(route.request.headers.get("idempotency-key"))
        route.fulfill(
            status=409,
            content_type="application/json",
            body=json.dumps({"error": {"code": "seal_required", "message": "该步骤须用印。"}}),
        )

    page.route(f"**/api/v1/tasks/{task['id']}/approve/", refuse)
    row.get_by_role("button", name="同意").tap()
    outbox = page.get_by_test_id(f"outbox-{task['id']}")
    outbox.get_by_role("alert").filter(has_text="该步骤须用印").wait_for()
    page.get_by_role("button", name="立即重试").wait_for(state="detached")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a reconnect
    page.wait_for_timeout(1000)
    assert len(sent) == 1 and sent[0].startswith("pwa-")
    assert leader3.task_for(server.documents[1])["state"] == "open"
    outbox.get_by_role("button", name="知道了").tap()
    outbox.wait_for(state="detached")


def test_an_approval_queued_when_the_session_ended_is_sent_after_signing_in_again(server, phone):
    leader3 = Person(server.base, "leader3")
    document_id = server.documents[2]
    task = leader3.task_for(document_id)
    assert task is not None
    page = phone.new_page()
    sign_in(page, server.base, "leader3")
    row = page.get_by_test_id(f"task-{task['id']}")
    approve_url = f"**/api/v1/tasks/{task['id']}/approve/"
    page.route(approve_url, lambda route: route.abort("internetdisconnected"))  # lost
    row.get_by_role("button", name="同意").tap()
    row.get_by_text("待发送").wait_for()

    # Meanwhile both tokens run out (a phone in a pocket overnight): the app signs out,
    # the approval stays queued, and is sent — once, with its key — after sign-in.
    page.evaluate(
        """() => {
             const s = JSON.parse(localStorage.getItem('govdesk.session'));
             s.access = 'e30.eyJleHAiOjF9.x'; s.refresh = 'expired';
             localStorage.setItem('govdesk.session', JSON.stringify(s));
           }"""
    )
    page.reload()
    page.locator("#login-username").wait_for()
    assert leader3.task_for(document_id)["state"] == "open"
    page.unroute(approve_url)
    sign_in(page, server.base, "leader3")
    page.get_by_test_id(f"outbox-{task['id']}").wait_for(state="detached", timeout=30_000)
    assert leader3.task_for(document_id) is None
    assert len(leader3.approvals_by_me(document_id)) == 1


def _handled_then_lost(keys: list[str]):
    """A route handler: the first POST reaches the server (which acts on it) but its
    answer is lost on the way back, like a connection dropped in a lift; every POST's
    Idempotency-Key is kept in ``keys``. Other requests pass untouched."""

    def handle(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server handles it ...
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    return handle


def test_a_draft_and_its_submission_retried_after_a_lost_answer_happen_once(server, phone):
    # Tapping again after a lost answer sends the same request with the SAME key, so the
    # server replays its first answer: one draft, one submission (docs/pwa.md#offline).
    clerk = Person(server.base, "b_clerk")  # 市发展和改革委员会: a flow without choices
    title = "关于重试不重复拟稿的测试通知"
    page = phone.new_page()
    sign_in(page, server.base, "b_clerk")
    page.goto(server.base + "/#/drafts")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("正文", exact=True).fill("第一段。\n第二段。")

    create_keys: list[str] = []
    page.route("**/api/v1/documents/", _handled_then_lost(create_keys))
    save = page.get_by_role("button", name="保存并送审")
    save.tap()
    page.get_by_text("网络不可用").wait_for()  # the answer was lost: the form stays
    save.tap()  # the clerk taps again
    page.get_by_text(f"：{title}").wait_for()  # saved; on the submit screen
    page.unroute("**/api/v1/documents/")
    found = clerk.get("/api/v1/documents/?q=" + urllib.parse.quote(title))["results"]
    assert [d["title"] for d in found] == [title]  # exactly one draft
    assert len(create_keys) == 2 and create_keys[0] == create_keys[1]
    document_id = found[0]["id"]

    submit_url = f"**/api/v1/documents/{document_id}/submit/"
    submit_keys: list[str] = []
    page.route(submit_url, _handled_then_lost(submit_keys))
    submit = page.get_by_role("button", name="送审", exact=True)
    submit.tap()
    page.get_by_text("网络不可用").wait_for()
    submit.tap()
    page.get_by_text("已送审").wait_for()  # the replayed success, not a refusal
    page.get_by_text("新建发文").wait_for()
    page.unroute(submit_url)
    assert len(submit_keys) == 2 and submit_keys[0] == submit_keys[1]
    assert clerk.get(f"/api/v1/documents/{document_id}/")["status"] != "draft"
    signer = Person(server.base, "b_leader")  # 主任 signs off: one task, one flow
    todo = signer.get("/api/v1/tasks/?state=todo&page_size=100")["results"]
    assert [t["document"]["id"] for t in todo].count(document_id) == 1


AXE = REPO / "pwa/node_modules/axe-core/axe.min.js"  # installed with Lighthouse (npm ci)


@pytest.mark.skipif(not AXE.exists(), reason="pwa/node_modules is missing: run `make pwa`")
def test_axe_finds_no_wcag_a_or_aa_violation_on_the_main_screens(server, browser):
    # Labels, names, contrast: axe-core's WCAG 2 A and AA rules, with the approve sheet
    # open too. bypass_csp only lets the test inject axe (the page's CSP forbids that).
    context = browser.new_context(**PHONE, bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        source = AXE.read_text()

        def violations() -> list[str]:
            page.add_script_tag(content=source)
            return page.evaluate(
                """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}))
                     .violations
                     .map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' | ')}`)"""
            )

        page.goto(server.base + "/#/login")
        page.locator("#login-username").wait_for()
        assert violations() == [], "login"
        sign_in(page, server.base, "leader3")
        task = Person(server.base, "leader3").task_for(server.documents[0])
        page.get_by_test_id(f"task-{task['id']}").wait_for()
        assert violations() == [], "todo"
        page.goto(server.base + f"/#/tasks/{task['id']}")
        page.locator(".trail-opinion").first.wait_for()
        assert violations() == [], "task"
        page.get_by_role("button", name="意见").tap()
        page.get_by_role("button", name="关闭").first.wait_for()
        assert violations() == [], "approve sheet"
        for route in ("/#/notifications", "/#/me"):
            page.goto(server.base + route)
            page.get_by_role("navigation").wait_for()
            page.wait_for_timeout(500)
            assert violations() == [], route
    finally:
        context.close()
