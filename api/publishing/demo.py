"""DEMO ONLY: the demo city's channels and posts. Docs: docs/publishing.md#demo.

``seed()`` is called at the end of ``manage.py seed_demo``. Idempotent: channels are
matched by code, posts by (channel, source_id "demo:<n>"). It publishes 32 posts in the
five channels (通知公告, 工作动态, 政策文件, 领导讲话, 部门刊物) over the last six weeks,
one pinned, and one must-read notice of 市政府办公室 for its own people that half of
them have read. ``director`` is named publisher of 市政府办公室 (unit admins publish for
their unit anyway).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from api.accounts.models import Unit, User
from api.common.search import search_document
from api.publishing.actions.grants import grant_publisher
from api.publishing.actions.posts import set_audience_keys, summary_of, write_receipts
from api.publishing.models import Channel, Post, PostState, ReadReceipt

CHANNELS = (
    ("notices", "通知公告", "全市性通知、公告和通报"),
    ("work-news", "工作动态", "各单位重点工作进展"),
    ("policies", "政策文件", "市政府及部门规范性文件"),
    ("speeches", "领导讲话", "市领导重要讲话和批示精神"),
    ("journals", "部门刊物", "各部门简报、信息专刊"),
)
GOV_FEED = ("gov-site", "政府网站", "市政府门户网站和政府信息公开平台（自动导入）")

P = tuple[str, str, str, tuple[str, ...], int]
# (channel code, author unit code, title, paragraphs, days ago)
POSTS: tuple[P, ...] = (
    (
        "notices",
        "XC-OFF",
        "关于做好2026年防汛抗旱工作的通知",
        (
            "各区县人民政府，市直各单位：",
            "当前我市已进入主汛期，为切实做好防汛抗旱工作，确保人民群众生命财产安全，现就有关事项通知如下。",
            "一、压实防汛责任。各级各部门要落实行政首长负责制，防汛值班人员24小时在岗。",
            "二、加强隐患排查。重点排查水库、山塘、地质灾害点和城市易涝点，发现隐患立即整改。",
        ),
        2,
    ),
    (
        "notices",
        "XC-OFF",
        "关于2026年元旦放假安排的通知",
        (
            "根据国务院办公厅通知精神，现将2026年元旦放假安排通知如下：1月1日放假，共1天。",
            "节假日期间，各单位要妥善安排值班和安全保卫工作，遇有重大突发事件及时报告。",
        ),
        5,
    ),
    (
        "notices",
        "XC-OFF",
        "关于开展安全生产大检查的通知",
        (
            "为深刻吸取近期事故教训，市安委会决定在全市开展安全生产大检查。",
            "检查范围包括危险化学品、道路交通、建筑施工、消防等重点行业领域。",
            "各单位于12月20日前将自查情况报市应急管理局。",
        ),
        6,
    ),
    (
        "notices",
        "XC-SJ",
        "关于市政务服务平台系统升级暂停服务的公告",
        ("因系统升级，市政务服务平台将于本周六0:00至6:00暂停服务，给您带来不便，敬请谅解。",),
        8,
    ),
    (
        "notices",
        "XC-OFF",
        "关于调整市政府领导工作分工的通知",
        (
            "根据工作需要，经市政府研究，对市政府领导工作分工作如下调整。",
            "张伟同志负责发展改革、财政、审计等方面工作。王芳同志负责教育、卫生健康、民政等方面工作。",
        ),
        12,
    ),
    (
        "notices",
        "XC-JW",
        "关于严格落实中央八项规定精神的通知",
        (
            "元旦、春节临近，各单位要严格执行中央八项规定及其实施细则精神，坚决防止“四风”问题反弹回潮。",
        ),
        15,
    ),
    (
        "notices",
        "XC-WJ",
        "关于做好冬春季传染病防控工作的通知",
        ("各医疗卫生机构要加强发热门诊管理，做好流感等呼吸道传染病监测预警。",),
        20,
    ),
    (
        "work-news",
        "XC-FGW",
        "市发改委召开重点项目建设推进会",
        (
            "12月3日，市发改委召开全市重点项目建设推进会，通报1—11月重点项目进展情况。",
            "截至11月底，全市156个重点项目完成投资386亿元，占年度计划的92.3%。",
        ),
        1,
    ),
    (
        "work-news",
        "XC-CZ",
        "市财政局多措并举保障民生支出",
        ("今年以来，市财政局坚持过紧日子，压减一般性支出，全市民生支出占一般公共预算支出的78%。",),
        3,
    ),
    (
        "work-news",
        "XC-GA",
        "市公安局开展冬季道路交通安全整治行动",
        (
            "市公安局交警支队在全市范围开展冬季道路交通安全整治，重点查处酒驾醉驾、超速超载等违法行为。",
            "行动开展以来，共查处各类交通违法行为3200余起。",
        ),
        4,
    ),
    (
        "work-news",
        "XC-JY",
        "我市完成中小学校舍安全排查",
        ("市教育局组织专业力量对全市412所中小学校舍进行全面排查，整改隐患37处。",),
        7,
    ),
    (
        "work-news",
        "XC-ZR",
        "市自然资源局推进不动产登记“一窗受理”",
        ("市不动产登记中心实行“一窗受理、集成服务”，办理时限压缩至3个工作日。",),
        9,
    ),
    (
        "work-news",
        "XC-YC",
        "渝城区开展防汛应急演练",
        (
            "渝城区组织水利、应急、消防等部门开展防汛应急演练，检验预案的可操作性。",
            "演练模拟强降雨引发城市内涝，转移群众200余人。",
        ),
        11,
    ),
    (
        "work-news",
        "XC-GX",
        "高新区新签约项目12个总投资85亿元",
        ("在近日举行的高新区招商推介会上，集中签约电子信息、新材料等项目12个，总投资85亿元。",),
        13,
    ),
    (
        "work-news",
        "XC-SJ",
        "“一网通办”事项网上可办率达98%",
        ("市数据局持续推进政务服务数字化，全市依申请政务服务事项网上可办率达98%。",),
        18,
    ),
    (
        "work-news",
        "XC-WJ",
        "市卫健委组织开展基层医疗卫生服务能力提升培训",
        ("培训覆盖全市乡镇卫生院和社区卫生服务中心业务骨干300余人。",),
        22,
    ),
    (
        "policies",
        "XC-OFF",
        "新城市人民政府关于进一步优化营商环境的若干措施",
        (
            "为深入贯彻落实国家和省关于优化营商环境的决策部署，结合我市实际，制定以下措施。",
            "一、压缩企业开办时间至1个工作日以内。",
            "二、推行工程建设项目审批“多测合一”“联合验收”。",
        ),
        10,
    ),
    (
        "policies",
        "XC-OFF",
        "新城市政府信息公开工作规定",
        ("为保障公民、法人和其他组织依法获取政府信息，提高政府工作透明度，制定本规定。",),
        25,
    ),
    (
        "policies",
        "XC-CZ",
        "新城市市级预算单位公务卡管理办法",
        ("预算单位使用公务卡结算的公务支出，应当严格按照预算和规定标准执行。",),
        28,
    ),
    (
        "policies",
        "XC-FGW",
        "新城市重点项目管理办法（修订）",
        ("本办法所称重点项目，是指对全市经济社会发展具有重大影响的建设项目。",),
        30,
    ),
    (
        "policies",
        "XC-ZR",
        "新城市国土空间规划管理若干规定",
        ("各类开发保护建设活动应当符合国土空间规划，严守耕地和永久基本农田保护红线。",),
        35,
    ),
    (
        "policies",
        "XC-WJ",
        "新城市基本公共卫生服务项目实施方案",
        ("进一步规范基本公共卫生服务项目管理，提高资金使用效益。",),
        40,
    ),
    (
        "speeches",
        "XC",
        "李明远市长在全市经济工作会议上的讲话",
        (
            "同志们：这次会议的主要任务是，全面总结今年经济工作，分析当前形势，部署明年经济工作。",
            "一、今年经济运行总体平稳、稳中有进。全市地区生产总值预计增长5.6%。",
            "二、明年要坚持稳中求进工作总基调，抓好项目建设、产业升级和民生保障。",
        ),
        3,
    ),
    (
        "speeches",
        "XC",
        "张伟副市长在全市安全生产工作会议上的讲话",
        ("安全生产是发展的底线和红线。各级各部门要牢固树立安全发展理念，坚决遏制重特大事故发生。",),
        6,
    ),
    (
        "speeches",
        "XC",
        "王芳副市长在全市教育工作会议上的讲话",
        ("要坚持教育优先发展，推进义务教育优质均衡，办好人民满意的教育。",),
        14,
    ),
    (
        "speeches",
        "XC",
        "杨军副市长在防汛抗旱工作部署会上的讲话",
        (
            "今年汛期形势复杂，各地要克服麻痹思想，立足防大汛、抗大旱、抢大险。",
            "要强化监测预警，确保防汛抗旱各项措施落实到位。",
        ),
        21,
    ),
    (
        "journals",
        "XC-OFF",
        "政务信息（第45期）",
        ("本期要目：市政府常务会议研究部署今冬明春重点工作；全市重点项目建设进展情况。",),
        2,
    ),
    (
        "journals",
        "XC-OFF",
        "政务信息（第44期）",
        ("本期要目：我市召开安全生产工作会议；一网通办改革取得新成效。",),
        9,
    ),
    (
        "journals",
        "XC-FGW",
        "发改简报（第12期）",
        ("1—11月全市固定资产投资同比增长6.1%，其中工业投资增长9.8%。",),
        5,
    ),
    (
        "journals",
        "XC-CZ",
        "财政工作简报（第20期）",
        ("全市一般公共预算收入完成年度预算的95.2%，收入质量进一步提高。",),
        16,
    ),
    (
        "journals",
        "XC-SJ",
        "数字政府建设专刊（第6期）",
        ("本期介绍：政务数据共享交换平台上线运行，已汇聚各部门数据资源目录1800余项。",),
        24,
    ),
    (
        "journals",
        "XC-JW",
        "纪检监察工作动态（第30期）",
        ("本期通报：全市开展作风建设专项督查，发现问题46个，已全部整改。",),
        33,
    ),
)
MUST_READ = (
    "notices",
    "XC-OFF",
    "关于规范公文处理和信息报送工作的通知（必读）",
    (
        "办公室各科室：",
        "为进一步提高公文处理质量和信息报送时效，请全体人员认真学习《党政机关公文处理工作条例》。",
        "各科室收到公文后须在1个工作日内完成登记和拟办，重要信息须在事发后2小时内报送。",
    ),
)


def _unit_codes() -> dict[str, Unit]:
    return {u.code: u for u in Unit.objects.filter(code__startswith="XC")}


def seed() -> dict[str, int]:
    if settings.PRODUCTION:
        raise RuntimeError("the demo posts are never seeded in production")
    units = _unit_codes()
    if "XC-OFF" not in units:
        return {}
    stats = {"publishing_channels_created": 0, "publishing_posts_created": 0}
    channels: dict[str, Channel] = {}
    for order, (code, name, description) in enumerate((*CHANNELS, GOV_FEED)):
        channel, created = Channel.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "sort_order": order,
                "read_only": code == GOV_FEED[0],
                "feed_format": "json" if code == GOV_FEED[0] else "",
            },
        )
        channels[code] = channel
        stats["publishing_channels_created"] += int(created)
    director = User.objects.filter(username="director").first()
    if director is not None:
        grant_publisher(units["XC-OFF"], director, None)
    publisher = director or User.objects.filter(unit=units["XC-OFF"]).first()
    now = timezone.now()
    for number, (channel_code, unit_code, title, paragraphs, days) in enumerate(POSTS, 1):
        source_id = f"demo:{number}"
        if Post.objects.filter(channel=channels[channel_code], source_id=source_id).exists():
            continue
        body = [
            {"level": 1 if p[:2] in {"一、", "二、", "三、"} else 0, "text": p} for p in paragraphs
        ]
        when = now - timedelta(days=days, hours=number % 7)
        post = Post.objects.create(
            channel=channels[channel_code],
            title=title,
            body=body,
            summary=summary_of(body),
            author_unit=units[unit_code],
            state=PostState.PUBLISHED,
            audience={"kind": "city"},
            pinned=number == 1,
            published_at=when,
            published_by=publisher,
            source_id=source_id,
            search_text=search_document(title, *paragraphs),
            created_at=when,
            updated_at=when,
        )
        set_audience_keys(post)
        stats["publishing_posts_created"] += 1
    stats["publishing_must_read_created"] = _seed_must_read(channels, units, publisher, now)
    return stats


def _seed_must_read(
    channels: dict[str, Channel], units: dict[str, Unit], publisher: User | None, now
) -> int:
    channel_code, unit_code, title, paragraphs = MUST_READ
    channel = channels[channel_code]
    if Post.objects.filter(channel=channel, source_id="demo:must-read").exists():
        return 0
    office = units[unit_code]
    body = [{"level": 0, "text": p} for p in paragraphs]
    post = Post.objects.create(
        channel=channel,
        title=title,
        body=body,
        summary=summary_of(body),
        author_unit=office,
        state=PostState.PUBLISHED,
        audience={"kind": "units", "unit_ids": [office.pk]},
        must_read=True,
        read_deadline=now + timedelta(days=3),
        published_at=now - timedelta(hours=20),
        published_by=publisher,
        source_id="demo:must-read",
        search_text=search_document(title, *paragraphs),
    )
    set_audience_keys(post)
    write_receipts(post)
    receipts = list(ReadReceipt.objects.filter(post=post).order_by("user_id"))
    for receipt in receipts[: len(receipts) // 2]:
        receipt.read_at = now - timedelta(hours=5)
        receipt.save(update_fields=["read_at"])
    return 1
