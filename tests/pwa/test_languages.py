"""The PWA speaks one language at a time: Simplified Chinese by default, English by choice.

Docs: docs/pwa.md#languages. In Debian's Chromium at a phone viewport, against a real
server (tests/pwa/conftest.py):

* every route, signed out and signed in (a leader, and a clerk for 拟稿), in zh-CN shows
  no English word in its visible text or its accessible names (labels, placeholders,
  alt text) — only proper names such as browsers, and units like KB;
* the same routes after choosing English in 我的 show no raw message key
  (``tasks.title``) and the shell is in English; the choice survives a reload, and the
  API is asked in English (``Accept-Language: en``): a refusal comes back in English;
* a first visit from an English browser opens in English; dates are Beijing time.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, PHONE, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]

MESSAGES = REPO / "pwa/src/i18n/messages"
# Proper names and units that stay as they are in a Chinese interface.
ALLOWED_LATIN = {
    "KB", "MB", "HTTP", "PDF", "Chrome", "Chromium", "Safari", "Firefox", "Edge", "Android",
    "iPhone", "iPad", "iOS", "Windows", "macOS", "Linux", "HarmonyOS", "English", "WPS",
    "Janus",  # the media server's name (视频需要 Janus 媒体服务器, docs/meetings.md)
}  # fmt: skip

# Everything a person sees or hears on the page: text, labels, placeholders, alt text.
VISIBLE_WORDS = """() => {
  const out = [document.body.innerText, document.title];
  for (const el of document.querySelectorAll('[aria-label],[placeholder],[alt],[title]')) {
    if (el.closest('[aria-hidden="true"]')) continue;
    for (const a of ['aria-label', 'placeholder', 'alt', 'title']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  for (const el of document.querySelectorAll('option')) out.push(el.textContent);
  return out.join('\\n');
}"""


def _areas() -> list[str]:
    names = set()
    for path in MESSAGES.glob("*.js"):
        names.update(re.findall(r"^    (\w+): \{$", path.read_text(), flags=re.MULTILINE))
    assert {"app", "common", "tasks", "detail", "me", "login"} <= names
    return sorted(names)


def _english_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z'’-]+", text)
    return sorted({w for w in words if w not in ALLOWED_LATIN})


def _raw_keys(text: str, areas: list[str]) -> list[str]:
    return re.findall(rf"\b(?:{'|'.join(areas)})\.[A-Za-z_][\w.]*", text)


def _routes(server, leader: Person) -> list[tuple[str, str, str]]:
    task = leader.task_for(server.documents[3])
    assert task is not None
    return [
        ("leader1", "/#/todo", f"[data-testid='task-{task['id']}']"),
        ("leader1", "/#/todo?tab=done", ".van-tabs"),
        ("leader1", f"/#/tasks/{task['id']}", ".trail-time"),
        ("leader1", "/#/notifications", ".live"),
        ("leader1", "/#/me", ".section-title"),
        ("leader1", "/#/meetings", "[data-testid^='meeting-']"),
        ("leader1", f"/#/meetings/{_demo_meeting(leader)}", ".section"),
        ("supervisor", "/#/supervision", "[data-testid^='item-']"),
        ("supervisor", f"/#/supervision/{_demo_item(server)}", ".section-title"),
        ("clerk", "/#/drafts", ".section-title"),
        ("clerk", f"/#/documents/{_sent_by_clerk(server)}", "[data-testid='progress-entry']"),
        ("clerk", "/#/me", ".section-title"),  # last: the test goes on from 我的
    ]


def _sent_by_clerk(server) -> int:
    """A demo document the clerk drafted and submitted (我的发文)."""
    clerk = Person(server.base, "clerk")
    sent = clerk.get("/api/v1/documents/?mine=true&status=in_progress")["results"]
    return int(sent[0]["id"])


def _demo_item(server) -> int:
    """A seeded supervised item (api/supervision/demo.py)."""
    supervisor = Person(server.base, "supervisor")
    return int(supervisor.get("/api/v1/supervision/items/")["results"][0]["id"])


def _demo_meeting(leader: Person) -> int:
    """The seeded video meeting leader1 is invited to (api/meetings/demo.py)."""
    return int(leader.get("/api/v1/meetings/")["results"][0]["id"])


def _walk(page, server, routes, check) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    _forget_session(page, server.base)
    problems = check(page.evaluate(VISIBLE_WORDS))
    if problems:
        found["/#/login"] = problems
    who = None
    for user, route, ready in routes:
        if user != who:
            _forget_session(page, server.base)
            sign_in(page, server.base, user, button=_sign_in_label(page))
            who = user
        page.goto(server.base + route)
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
        problems = check(page.evaluate(VISIBLE_WORDS))
        if problems:
            found[f"{user} {route}"] = problems
    return found


def _forget_session(page, base: str) -> None:
    """Signed out on this device only (the language choice stays), on the login page."""
    page.goto(base + "/#/login")
    page.evaluate("() => localStorage.removeItem('govdesk.session')")
    page.reload()
    page.locator("#login-username").wait_for()


def _sign_in_label(page) -> str:
    return "Sign in" if page.evaluate("() => document.documentElement.lang") == "en" else "登录"


def test_every_route_in_chinese_shows_no_english_label(server, phone):
    leader = Person(server.base, "leader1")
    page = phone.new_page()
    found = _walk(page, server, _routes(server, leader), _english_words)
    assert found == {}
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"


def test_every_route_in_english_shows_no_raw_key_and_the_choice_is_kept(server, phone):
    areas = _areas()
    leader = Person(server.base, "leader1")
    page = phone.new_page()
    sent_languages: list[str] = []

    def record(request) -> None:  # the app's API calls (an event stream cannot set headers)
        if "/api/v1/" in request.url and request.resource_type == "fetch":
            sent_languages.append(request.headers.get("accept-language", "") + " " + request.url)

    page.on("request", record)
    sign_in(page, server.base, "leader1")
    page.goto(server.base + "/#/me")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("heading", name="Devices and sessions").wait_for()
    page.reload()
    page.get_by_role("heading", name="Devices and sessions").wait_for()  # kept
    assert page.evaluate("() => localStorage.getItem('govdesk.locale')") == "en"
    nav = page.get_by_role("navigation", name="Main navigation")
    for label in ("To-do", "Alerts", "Me"):
        nav.get_by_text(label, exact=True).wait_for()

    sent_languages.clear()
    found = _walk(page, server, _routes(server, leader), lambda text: _raw_keys(text, areas))
    assert found == {}
    assert sent_languages and [s for s in sent_languages if not s.startswith("en ")] == []
    page.get_by_role("heading", name="Devices and sessions").wait_for()

    # The server's own words follow the choice: a refused sign-in in English.
    _forget_session(page, server.base)
    page.locator("#login-username").fill("leader1")
    page.locator("#login-password").fill("wrong password")
    page.get_by_role("button", name="Sign in", exact=True).tap()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert _english_words(alert.inner_text()) and not re.search(
        r"[\u4e00-\u9fff]", alert.inner_text()
    )


def test_an_english_browser_opens_in_english_and_times_are_beijing_time(browser, server):
    leader = Person(server.base, "leader2")
    document_id = server.documents[3]
    task = leader.task_for(document_id)
    acted = [
        e
        for e in leader.get(f"/api/v1/documents/{document_id}/trail/")["entries"]
        if e.get("acted_at")
    ]
    assert task is not None and acted
    at = datetime.fromisoformat(acted[0]["acted_at"].replace("Z", "+00:00"))
    beijing = at.astimezone(ZoneInfo("Asia/Shanghai"))
    expected = f"{beijing.day} {beijing:%b}, {beijing:%H:%M}"  # en-GB, 24-hour

    context = browser.new_context(**{**PHONE, "locale": "en-US", "timezone_id": "Europe/London"})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(server.base + "/#/login")
        page.get_by_role("button", name="Sign in", exact=True).wait_for()
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert page.evaluate("() => localStorage.getItem('govdesk.locale')") is None  # not chosen
        sign_in(page, server.base, "leader2", button="Sign in")
        page.goto(server.base + f"/#/tasks/{task['id']}")
        page.locator(".trail-time").first.wait_for()
        times = page.locator(".trail-time").all_inner_texts()
        assert any(t.startswith(expected) for t in times), (expected, times)
    finally:
        context.close()
