"""Video meetings on this box: `make bench` (never part of `make test`).

Docs: docs/performance.md#video-meetings and docs/meetings.md. Starts Debian's Janus
and the GovDesk test server (tests/pwa/server.py), then for each entry of
GOVDESK_BENCH_MEETINGS ("3x1,3x2,6x1": parties × meetings) schedules that many
meetings and has headless Chromium pages (fake camera and microphone) join each of
them through the PWA, one after the other. It reports:

* join time: from the tap on 进入会议 of each meeting's last joiner (the others already
  publish) to the first remote frame decoded, p50 over the meetings run;
* whether frames still flow after a settling period: every page's framesDecoded from
  every other participant grows over GOVDESK_BENCH_MEETINGS_WINDOW seconds (15);
* Janus's CPU over that window (utime+stime of its process from /proc) per forwarded
  video stream (each meeting of N forwards N·(N−1));
* the box's CPU count and load, since Chromium's encoders and decoders share the box.

Writes var/bench/meetings.json. Skipped with the reason without janus or chromium.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.meetings.janus_server import requires_janus, start_janus
from tests.deploy.helpers import REPO, free_port, http, wait_until
from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, CHROMIUM_ARGS, PHONE, start_server

pytestmark = [
    pytest.mark.slow,
    requires_janus,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]

OUT = REPO / "var" / "bench" / "meetings.json"
PLAN = os.environ.get("GOVDESK_BENCH_MEETINGS", "3x1,3x2,6x1")
WINDOW = float(os.environ.get("GOVDESK_BENCH_MEETINGS_WINDOW", "15"))
PEOPLE = ["leader1", "leader2", "leader3", "mayor", "deputy1", "director"]
FRAMES = "async () => window.__govdeskMeeting ? await window.__govdeskMeeting.framesDecoded() : {}"


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(server, janus, browser, parties: int, meetings: int) -> dict:
    host = Person(server.base, "director")
    invited = [Person(server.base, u) for u in PEOPLE[:parties]]
    now = datetime.now(UTC)
    contexts, pages, joins = [], [], []
    try:
        for index in range(meetings):
            body = {
                "title": f"bench {parties}x{index}",
                "starts_at": (now + timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
                "user_ids": [p.id for p in invited],
            }
            status, meeting = http(
                "POST", host.base + "/api/v1/meetings/", body, headers=host.headers
            )
            assert status == 201, meeting
            for position, username in enumerate(PEOPLE[:parties]):
                context = browser.new_context(**PHONE)
                context.grant_permissions(["camera", "microphone"], origin=server.base)
                context.set_default_timeout(60_000)
                contexts.append(context)
                page = context.new_page()
                sign_in(page, server.base, username)
                page.goto(f"{server.base}/#/meetings/{meeting['id']}")
                started = time.monotonic()
                page.get_by_test_id("join").tap()
                pages.append(page)
                if position == parties - 1:  # the last joiner: everyone else publishes
                    wait_until(
                        lambda page=page: any(v > 0 for v in page.evaluate(FRAMES).values()),
                        120,
                        "first frame",
                    )
                    joins.append(time.monotonic() - started)
        settle = lambda: all(  # noqa: E731
            len(f := p.evaluate(FRAMES)) == parties - 1 and all(v > 0 for v in f.values())
            for p in pages
        )
        wait_until(settle, 120, "every page receives every other participant")
        before = [p.evaluate(FRAMES) for p in pages]
        cpu0, t0 = _cpu_seconds(janus.proc.pid), time.monotonic()
        time.sleep(WINDOW)  # the measurement window (a benchmark, not a test's sync)
        cpu1, t1 = _cpu_seconds(janus.proc.pid), time.monotonic()
        after = [p.evaluate(FRAMES) for p in pages]
        flowing = all(
            all(a.get(k, 0) > v for k, v in b.items()) for a, b in zip(after, before, strict=True)
        )
        fps = [
            (a[k] - v) / (t1 - t0)
            for a, b in zip(after, before, strict=True)
            for k, v in b.items()
            if k in a
        ]
        streams = meetings * parties * (parties - 1)
        janus_cpu = (cpu1 - cpu0) / (t1 - t0)
        return {
            "parties": parties, "meetings": meetings, "pages": len(pages),
            "frames_flowing": flowing, "received_fps_median": round(statistics.median(fps), 1),
            "received_fps_min": round(min(fps), 1), "forwarded_video_streams": streams,
            "janus_cpu_cores": round(janus_cpu, 3),
            "janus_cpu_percent_per_stream": round(100 * janus_cpu / streams, 2),
            "join_seconds": [round(j, 2) for j in joins],
            "join_p50_seconds": round(statistics.median(joins), 2),
            "loadavg": os.getloadavg(), "cpus": os.cpu_count(),
        }  # fmt: skip
    finally:
        for context in contexts:
            context.close()


def test_meetings_capacity_cpu_and_join_time(tmp_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    janus = start_janus(
        tmp_path / "janus", event_url=f"http://127.0.0.1:{port}/api/v1/meetings/janus-events/"
    )
    server = start_server(tmp_path / "server", extra_env=janus.env(), port=port)
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                ],
                headless=True,
            )
            for entry in PLAN.split(","):
                parties, meetings = (int(x) for x in entry.split("x"))
                result = _run(server, janus, browser, parties, meetings)
                print(json.dumps(result, ensure_ascii=False))
                results.append(result)
            browser.close()
    finally:
        server.stop()
        janus.stop()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    assert results and all(r["pages"] == r["parties"] * r["meetings"] for r in results)
