"""Seeding for the portal and search benchmark (docs/performance.md#portal-and-search).

PostgreSQL only. Loads the reference city (``seed_demo --scale city``: 375 units, 8,165
users, the demo channels) and then ``posts`` published posts by COPY: 70 % for the
whole city, 20 % for one to three units, 10 % for a unit's subtree; 1 % must-read
(for one unit, with a receipt per person of it); spread over two years across the demo
channels. Bodies are drawn from a pool of believable sentences whose search documents
are computed once, so 200k posts need no per-post jieba run. A marker row remembers
what was loaded (the same ``govdesk_bench_marker`` table as seed_approval.py).
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from tests.bench.seed_approval import _log, _marker, _reset_sequence, _set_marker, copy_rows

SUBJECTS = [
    "防汛抗旱",
    "安全生产",
    "优化营商环境",
    "重点项目建设",
    "乡村振兴",
    "生态环境保护",
    "疫情防控",
    "民生保障",
    "政务公开",
    "数字政府",
    "招商引资",
    "森林防火",
    "道路交通安全",
    "食品安全",
    "城市管理",
    "教育教学",
    "医疗卫生",
    "财政预算",
    "审计整改",
    "信访维稳",
]
VERBS = ["做好", "加强", "推进", "落实", "开展", "部署", "规范", "深化"]
SENTENCES = [
    "各单位要高度重视，切实加强组织领导，确保各项工作落到实处。",
    "请于本周五前将工作开展情况报送市政府办公室。",
    "要进一步压实责任，强化督促检查，对工作不力的严肃问责。",
    "截至目前，全市已累计完成投资三百二十亿元，同比增长百分之六点二。",
    "会议强调，要坚持问题导向，聚焦重点难点，持续推动工作取得新成效。",
    "各区县、各部门要结合实际制定具体实施方案，明确时间表和路线图。",
    "要加强宣传引导，及时回应社会关切，营造良好舆论氛围。",
    "市政府督查室将对落实情况进行专项督查，并通报督查结果。",
    "要统筹发展和安全，守住不发生重大风险的底线。",
    "值班人员要严格执行二十四小时值班和领导带班制度。",
]
TITLES = [
    "关于{verb}{subject}工作的通知",
    "{unit}召开{subject}工作推进会",
    "关于{subject}专项检查情况的通报",
    "{unit}{verb}{subject}取得阶段性成效",
    "新城市{subject}实施方案",
]


def seed(posts: int = 200_000, seed_value: int = 20261207) -> dict[str, Any]:
    from api.accounts.models import Unit, User
    from api.common.search import search_document
    from api.publishing.models import Channel, Post, PostAudience, ReadReceipt

    assert connection.vendor == "postgresql", "the benchmark seeds PostgreSQL only"
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if User.objects.count() < 8_000:
        _log("seed_demo --scale city …")
        call_command("seed_demo", scale="city", verbosity=0)
    what = f"posts:{posts}"
    if _marker(what):
        _log(f"reusing the seeded posts ({what})")
        return {"what": what, "reused": True}
    rng = random.Random(seed_value)
    channels = list(Channel.objects.filter(read_only=False).values_list("id", flat=True))
    units = list(Unit.objects.values_list("id", "name"))
    unit_ids = [u[0] for u in units]
    members: dict[int, list[int]] = {}
    for user_id, unit_id in User.objects.filter(is_active=True).values_list("id", "unit_id"):
        members.setdefault(unit_id, []).append(user_id)
    sentence_docs = [search_document(s) for s in SENTENCES]
    subject_docs = {s: search_document(s) for s in SUBJECTS}
    now = timezone.now()
    base = (Post.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    audiences: list[tuple[int, list[str]]] = []
    receipts: list[tuple[int, int, int]] = []

    def post_rows():
        for i in range(posts):
            post_id = base + i
            unit_id, unit_name = rng.choice(units)
            subject = rng.choice(SUBJECTS)
            title = rng.choice(TITLES).format(
                verb=rng.choice(VERBS), subject=subject, unit=unit_name[:12]
            )[:200]
            picked = rng.sample(range(len(SENTENCES)), 3)
            body = [{"level": 0, "text": SENTENCES[k]} for k in picked]
            roll = rng.random()
            must_read = False
            if roll < 0.7:
                audience: dict[str, Any] = {"kind": "city"}
                keys = ["city"]
            elif roll < 0.9:
                chosen = rng.sample(unit_ids, rng.randint(1, 3))
                audience = {"kind": "units", "unit_ids": sorted(chosen)}
                keys = [f"u:{u}" for u in chosen]
                if rng.random() < 0.05:
                    must_read = True
                    for u in chosen:
                        receipts.extend((post_id, person, u) for person in members.get(u, []))
            else:
                audience = {"kind": "subtree", "unit_ids": [unit_id]}
                keys = [f"t:{unit_id}"]
            audiences.append((post_id, keys))
            when = now - timedelta(minutes=5 * (posts - i) + rng.randint(0, 4))
            yield {
                "id": post_id,
                "channel_id": rng.choice(channels),
                "title": title,
                "body": body,
                "summary": body[0]["text"],
                "author_unit_id": unit_id,
                "state": "published",
                "audience": audience,
                "must_read": must_read,
                "read_deadline": when + timedelta(days=3) if must_read else None,
                "reminded_at": when + timedelta(days=3) if must_read else None,
                "pinned": rng.random() < 0.001,
                "published_at": when,
                "search_text": " ".join(
                    [search_document(title), subject_docs[subject]]
                    + [sentence_docs[k] for k in picked]
                ),
                "created_at": when,
                "updated_at": when,
                "version": 1,
            }

    _log(f"COPY {posts:,} posts …")
    copy_rows(Post, post_rows())
    _reset_sequence(Post)
    audience_base = (PostAudience.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    def audience_rows():
        n = 0
        for post_id, keys in audiences:
            for key in keys:
                yield {"id": audience_base + n, "post_id": post_id, "key": key}
                n += 1

    _log("COPY audience keys …")
    copy_rows(PostAudience, audience_rows())
    _reset_sequence(PostAudience)
    receipt_base = (ReadReceipt.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    _log(f"COPY {len(receipts):,} read receipts …")
    copy_rows(
        ReadReceipt,
        (
            {
                "id": receipt_base + n,
                "post_id": post_id,
                "user_id": user_id,
                "unit_id": unit_id,
                "read_at": now if n % 2 else None,
                "created_at": now,
            }
            for n, (post_id, user_id, unit_id) in enumerate(receipts)
        ),
    )
    _reset_sequence(ReadReceipt)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publishing_post")
        cursor.execute("ANALYZE publishing_postaudience")
        cursor.execute("ANALYZE publishing_readreceipt")
    _set_marker(what)
    seconds = round(time.monotonic() - started, 1)
    _log(f"seeded in {seconds}s")
    return {"what": what, "seconds": seconds, "reused": False}
