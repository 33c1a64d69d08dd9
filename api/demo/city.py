"""The demo city 新城市 (Xincheng): a fictional prefecture city modelled on the
reference deployment (a 新余-sized city). Pure data, no database access; the
``seed_demo`` management command writes it. Docs: docs/demo.md.

``--scale city`` adds generated bureaus, counties, townships, departments and staff
until the city has exactly ``SCALE_UNITS`` units and ``SCALE_USERS`` users, the size
of the reference deployment after one year.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# DEMO ONLY. A fixed, published TOTP secret so that the demo's seal custodian and IT
# admin (whose roles require a second factor) can sign in without enrolling a phone.
# Get a code with:
#   python -c "import pyotp; print(pyotp.TOTP('GOVDESKDEMOTOTPSECRETONLYFORDEMO').now())"
DEMO_TOTP_SECRET = "GOVDESKDEMOTOTPSECRETONLYFORDEMO"  # noqa: S105 (demo data, documented)
TOTP_ACCOUNTS = ("custodian", "admin", "b_custodian")

ROOT_CODE = "XC"
SCALE_UNITS = 375
SCALE_USERS = 8165
SCALE_USER_PREFIX = "xc"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None
    short_name: str = ""
    doc_prefix: str = ""


@dataclass(frozen=True)
class AccountSpec:
    username: str
    display_name: str
    unit: str
    title: str
    # (role, unit code the role is scoped to; None = the person's own unit)
    roles: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PostSpec:
    unit: str
    name: str
    holder: str
    backup: str


# --- the demo city ---------------------------------------------------------------------

U = UnitSpec
DEMO_UNITS: tuple[UnitSpec, ...] = (
    U("XC", "新城市人民政府", "city", None, "市政府", "新府发"),
    U("XC-OFF", "新城市人民政府办公室", "office", "XC", "市政府办公室", "新府办发"),
    U("XC-OFF-MS", "秘书科", "department", "XC-OFF"),
    U("XC-OFF-WD", "文电科", "department", "XC-OFF"),
    U("XC-OFF-DC", "督查室", "department", "XC-OFF"),
    U("XC-FGW", "新城市发展和改革委员会", "bureau", "XC", "市发展和改革委员会", "新发改发"),
    U("XC-FGW-BGS", "办公室", "department", "XC-FGW"),
    U("XC-FGW-GH", "发展规划科", "department", "XC-FGW"),
    U("XC-CZ", "新城市财政局", "bureau", "XC", "市财政局", "新财发"),
    U("XC-CZ-BGS", "办公室", "department", "XC-CZ"),
    U("XC-CZ-YS", "预算科", "department", "XC-CZ"),
    U("XC-JY", "新城市教育局", "bureau", "XC", "市教育局", "新教发"),
    U("XC-GA", "新城市公安局", "bureau", "XC", "市公安局", "新公发"),
    U("XC-ZR", "新城市自然资源局", "bureau", "XC", "市自然资源局", "新自然资发"),
    U("XC-WJ", "新城市卫生健康委员会", "bureau", "XC", "市卫生健康委员会", "新卫健发"),
    U("XC-JW", "新城市纪委监委", "bureau", "XC", "市纪委监委", "新纪发"),
    U("XC-SJ", "新城市政务服务数据管理局", "bureau", "XC", "市数据局", "新数发"),
    U("XC-YC", "渝城区", "district", "XC", "渝城区", "渝府发"),
    U("XC-YC-OFF", "渝城区人民政府办公室", "office", "XC-YC", "渝城区政府办", "渝府办发"),
    U("XC-YC-CB", "城北街道", "township", "XC-YC"),
    U("XC-YC-CN", "城南街道", "township", "XC-YC"),
    U("XC-YC-LS", "良山镇", "township", "XC-YC"),
    U("XC-GX", "新城高新技术产业开发区", "district", "XC", "高新区", "新高管发"),
    U("XC-GX-OFF", "高新区管委会办公室", "office", "XC-GX", "高新区管委办", "新高管办发"),
    U("XC-GX-ML", "马岭街道", "township", "XC-GX"),
    U("XC-GX-SD", "水东镇", "township", "XC-GX"),
)
del U

A = AccountSpec
DEMO_ACCOUNTS: tuple[AccountSpec, ...] = (
    A("mayor", "李明远", "XC", "市长", (("leader", None),)),
    A("leader1", "张伟", "XC", "副市长", (("leader", None),)),
    A("leader2", "王芳", "XC", "副市长", (("leader", None),)),
    A("leader3", "杨军", "XC", "副市长", (("leader", None),)),
    A("deputy1", "吴强", "XC", "市政府副秘书长", (("leader", None), ("staff", None))),
    A("director", "王建国", "XC-OFF", "办公室主任", (("leader", None), ("staff", None))),
    A("clerk", "周敏", "XC-OFF", "收发文员", (("clerk", None), ("staff", None))),
    A("custodian", "孙静", "XC-OFF", "印章管理员", (("seal_custodian", None), ("staff", None))),
    A("office_admin", "刘洋", "XC-OFF", "办公室副主任", (("unit_admin", None), ("staff", None))),
    A("office_staff", "赵丽", "XC-OFF-WD", "文电科科员", (("staff", None),)),
    # leader1's secretary keeps leader1's schedule (docs/personal-office.md#demo).
    A("secretary1", "陈晓", "XC-OFF", "副市长秘书", (("staff", None),)),
    A("b_leader", "黄涛", "XC-FGW", "主任", (("leader", None), ("staff", None))),
    A("b_clerk", "郑洁", "XC-FGW", "收发文员", (("clerk", None), ("staff", None))),
    A("b_admin", "何磊", "XC-FGW", "系统管理员", (("unit_admin", None), ("staff", None))),
    A("b_staff", "林娜", "XC-FGW-BGS", "科员", (("staff", None),)),
    # 市发改委's outgoing flow ends in 分发, which dispatches a sealed PDF: it needs a seal
    # (api/seals/demo.py), a custodian and a 用印 step (api/workflow/demo_templates.py).
    A(
        "b_custodian",
        "吕娟",
        "XC-FGW",
        "印章管理员",
        (("seal_custodian", None), ("staff", None)),
    ),
    A("admin", "马超", "XC-SJ", "市信息化管理员", (("city_it_admin", "XC"), ("staff", None))),
    A("supervisor", "朱红", "XC-JW", "督查专员", (("supervisor", "XC"), ("staff", None))),
    # The 督查组: nine more city-wide supervisors, so ten people can urge one leader
    # (the cap per urged person and item, docs/urging.md; scripts/demo_rules.py).
    *(
        A(f"inspector{i}", name, "XC-JW", "督查员", (("supervisor", "XC"), ("staff", None)))
        for i, name in enumerate(
            ("严明", "夏雨", "魏东", "蒋青", "沈涛", "韦华", "方园", "石磊", "谭晶"), start=1
        )
    ),
    A("yc_admin", "胡斌", "XC-YC-OFF", "系统管理员", (("unit_admin", "XC-YC"), ("staff", None))),
    A("yc_clerk", "高燕", "XC-YC-OFF", "收发文员", (("clerk", None), ("staff", None))),
    A("gx_admin", "罗鹏", "XC-GX-OFF", "系统管理员", (("unit_admin", "XC-GX"), ("staff", None))),
    # Clerks (收发文员) of the exchange's demo recipients (docs/exchange.md#demo).
    A("cz_clerk", "陈静", "XC-CZ", "收发文员", (("clerk", None), ("staff", None))),
    A("jy_clerk", "许婷", "XC-JY", "收发文员", (("clerk", None), ("staff", None))),
    A("ga_clerk", "韩雪", "XC-GA", "收发文员", (("clerk", None), ("staff", None))),
    A("zr_clerk", "冯琳", "XC-ZR", "收发文员", (("clerk", None), ("staff", None))),
    A("wj_clerk", "邓慧", "XC-WJ", "收发文员", (("clerk", None), ("staff", None))),
    A("jw_clerk", "曹颖", "XC-JW", "收发文员", (("clerk", None), ("staff", None))),
    A("sj_clerk", "彭丽", "XC-SJ", "收发文员", (("clerk", None), ("staff", None))),
    A("gx_clerk", "曾琪", "XC-GX-OFF", "收发文员", (("clerk", None), ("staff", None))),
    # Unit leaders who approve items for sending in 信息报送 (docs/submissions.md#demo).
    A("cz_leader", "钱峰", "XC-CZ", "局长", (("leader", None), ("staff", None))),
    A("jy_leader", "孙丽", "XC-JY", "局长", (("leader", None), ("staff", None))),
)
del A

DEMO_POSTS: tuple[PostSpec, ...] = (
    PostSpec("XC", "市长", "mayor", "leader1"),
    PostSpec("XC", "副市长(一)", "leader1", "deputy1"),
    PostSpec("XC", "副市长(二)", "leader2", "leader3"),
    PostSpec("XC", "副市长(三)", "leader3", "leader2"),
    PostSpec("XC-OFF", "办公室主任", "director", "office_admin"),
    PostSpec("XC-OFF", "收发文员", "clerk", "office_staff"),
    PostSpec("XC-OFF", "印章管理员", "custodian", "director"),
    PostSpec("XC-FGW", "主任", "b_leader", "b_admin"),
    PostSpec("XC-FGW", "收发文员", "b_clerk", "b_staff"),
    PostSpec("XC-FGW", "印章管理员", "b_custodian", "b_leader"),
)


# --- the reference scale (--scale city) ----------------------------------------------------

EXTRA_BUREAUS: tuple[tuple[str, str], ...] = (
    ("市人力资源和社会保障局", "新人社发"),
    ("市住房和城乡建设局", "新建发"),
    ("市司法局", "新司发"),
    ("市民政局", "新民发"),
    ("市审计局", "新审发"),
    ("市统计局", "新统发"),
    ("市商务局", "新商发"),
    ("市文化广电新闻出版旅游局", "新文旅发"),
    ("市应急管理局", "新应急发"),
    ("市市场监督管理局", "新市监发"),
    ("市生态环境局", "新环发"),
    ("市交通运输局", "新交发"),
    ("市农业农村局", "新农发"),
    ("市水利局", "新水发"),
    ("市林业局", "新林发"),
    ("市退役军人事务局", "新退役发"),
    ("市医疗保障局", "新医保发"),
    ("市城市管理局", "新城管发"),
    ("市信访局", "新信发"),
    ("市人民防空办公室", "新人防发"),
    ("市科学技术局", "新科发"),
    ("市工业和信息化局", "新工信发"),
    ("市民族宗教事务局", "新宗发"),
    ("市档案馆", "新档发"),
    ("市机关事务管理局", "新机管发"),
    ("市体育局", "新体发"),
    ("市外事办公室", "新外发"),
    ("市国有资产监督管理委员会", "新国资发"),
    ("市行政审批局", "新审批发"),
    ("市地方金融监督管理局", "新金发"),
)

# (code, name, kind, doc_prefix, townships to add, township suffix)
EXTRA_BODIES: tuple[tuple[str, str, str, str, int, str], ...] = (
    ("XC-YY", "宜阳县", "county", "宜府发", 12, "镇"),
    ("XC-XH", "仙湖区", "district", "仙府发", 6, "街道"),
    ("XC-KJ", "孔江区", "district", "孔府发", 6, "街道"),
)
MORE_TOWNSHIPS = (("XC-YC", 5, "街道"), ("XC-GX", 3, "镇"))

TOWN_FIRST = "东西南北青石云桃杏柳松竹梅兰金银玉龙凤鹤"
TOWN_SECOND = "溪岭湖桥坪塘山田湾源"

DEPARTMENTS = (
    "办公室",
    "政策法规科",
    "综合科",
    "财务科",
    "人事科",
    "规划发展科",
    "监督检查科",
    "信息中心",
    "行政审批科",
    "机关党委",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓燕", "海燕", "文博", "子涵",
    "思远", "雨桐", "浩然", "欣怡", "俊杰", "雅琴", "国庆", "红梅", "春华", "立新", "振华", "晓东",
)  # fmt: skip


def _town_names() -> Iterator[str]:
    for second in TOWN_SECOND:
        for first in TOWN_FIRST:
            yield first + second


def scale_units() -> list[UnitSpec]:
    """The generated units, parents before children, exactly as many as make the
    demo city ``SCALE_UNITS`` in total. Deterministic: same codes on every run."""
    wanted = SCALE_UNITS - len(DEMO_UNITS)
    specs: list[UnitSpec] = []
    taken = {(u.parent, u.name) for u in DEMO_UNITS}

    def add(spec: UnitSpec) -> None:
        taken.add((spec.parent, spec.name))
        specs.append(spec)

    for index, (short, prefix) in enumerate(EXTRA_BUREAUS, start=1):
        add(UnitSpec(f"XC-B{index:02d}", "新城" + short, "bureau", ROOT_CODE, short, prefix))
    towns = _town_names()
    for code, name, kind, prefix, count, suffix in EXTRA_BODIES:
        add(UnitSpec(code, name, kind, ROOT_CODE, name, prefix))
        add(
            UnitSpec(
                f"{code}-OFF", f"{name}人民政府办公室", "office", code, "", prefix[0] + "府办发"
            )
        )
        for number in range(1, count + 1):
            add(UnitSpec(f"{code}-T{number:02d}", next(towns) + suffix, "township", code))
    for code, count, suffix in MORE_TOWNSHIPS:
        for number in range(1, count + 1):
            add(UnitSpec(f"{code}-T{number:02d}", next(towns) + suffix, "township", code))
    bureaus = [u.code for u in DEMO_UNITS if u.kind == "bureau"] + [
        s.code for s in specs if s.kind == "bureau"
    ]
    for number, department in enumerate(DEPARTMENTS, start=1):
        for bureau in bureaus:
            if len(specs) == wanted:
                return specs
            if (bureau, department) not in taken:
                add(UnitSpec(f"{bureau}-D{number:02d}", department, "department", bureau))
    if len(specs) != wanted:  # pragma: no cover - guarded by tests
        raise ValueError(f"the unit pool is too small: {len(specs)} < {wanted}")
    return specs


@dataclass(frozen=True)
class ScaleUser:
    username: str
    display_name: str
    unit: str
    title: str
    head: bool  # the first person generated in each unit leads it


def scale_users(unit_codes: list[str]) -> Iterator[ScaleUser]:
    """Generated staff, spread round-robin over ``unit_codes``, exactly as many as
    make the demo city ``SCALE_USERS`` in total."""
    wanted = SCALE_USERS - len(DEMO_ACCOUNTS)
    for index in range(wanted):
        surname = SURNAMES[index % len(SURNAMES)]
        given = GIVEN[(index // len(SURNAMES)) % len(GIVEN)]
        head = index < len(unit_codes)
        yield ScaleUser(
            username=f"{SCALE_USER_PREFIX}{index + 1:05d}",
            display_name=surname + given,
            unit=unit_codes[index % len(unit_codes)],
            title="负责人" if head else "科员",
            head=head,
        )


# --- The showcase notice ---------------------------------------------------------------
# The urgent notice the demo launcher submits so that leader1–3 each have a 会签 task
# (pwa/scripts/seed_demo_task.py, docs/demo.md#the-showcase-notice). 主送 is the
# document's ``main_recipients``: the renderer prints it as the 主送 line under the
# title (docs/rendering.md#header-body-colophon), so the body starts with the text
# itself and never repeats it.
SHOWCASE_MAIN_RECIPIENTS = "各区县人民政府，市政府各部门"
SHOWCASE_TITLES = (
    "关于做好冬季安全生产工作的通知",
    "关于开展冬季消防安全检查的通知",
    "关于做好元旦春节期间值班工作的通知",
)
SHOWCASE_BODY = (
    {"level": 1, "text": "高度重视冬季安全生产工作"},
    {"level": 0, "text": "各地各部门要压实责任，开展隐患排查，确保群众生命财产安全。"},
    {"level": 0, "text": "请认真贯彻落实。"},
)


def showcase_notice(title: str = SHOWCASE_TITLES[0]) -> dict[str, object]:
    """The draft of the showcase notice, as ``POST /api/v1/documents/`` takes it."""
    return {
        "direction": "outgoing",
        "title": title,
        "doc_type": "notice",
        "urgency": "urgent",
        "body": [dict(paragraph) for paragraph in SHOWCASE_BODY],
        "main_recipients": SHOWCASE_MAIN_RECIPIENTS,
    }
