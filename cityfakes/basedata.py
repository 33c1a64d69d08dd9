"""A fake base-data platform (基础数据库 共享平台) on loopback.

Docs: docs/integrations.md#base-data.

Plain Python, no Django. It serves the contract GovDesk's ``basedata`` connector
speaks, so a city's integrator can compare it with their real platform:

- ``GET  /catalogue?cursor=<c>&limit=<n>`` → ``{"items": [entry…], "next_cursor", "more"}``:
  the catalogue's changes after ``cursor`` (an opaque string; here the change number),
  oldest first. An entry: ``{"id", "version", "database", "name", "description",
  "owner_unit_code", "status": "active"|"retired", "fields": [{"name", "label",
  "kind"}], "parameters": [{"name", "label", "type", "required", "kind"}]}``.
- ``POST /datasets/<id>/query`` with ``{"parameters": {...}, "limit": n}`` →
  ``{"rows": [...], "total": n}``: rows matching every given parameter exactly, at most
  ``limit`` (the platform's own cap is 500), ``total`` counting all matches. Rows are
  unmasked: masking is GovDesk's job, by its grants.

Every request is signed with the connector's secret as GovDesk's connector layer signs
(``X-GovDesk-Timestamp`` and ``X-GovDesk-Signature``, cityfakes/signing.py; a GET signs
the empty body): 401 otherwise. A query's body names whom it is for (``requested_by``:
``{"user_id", "unit_code"}``); the fake keeps it in ``queries``. ``fail_next`` makes the
next requests answer 503, for retry tests.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import date, timedelta
from typing import Any

from cityfakes.server import FakeContext
from cityfakes.signing import verify

PLATFORM_CAP = 500
REGION = "360502"  # the demo city's district code prefix (fictional people, real format)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平红"
STREETS = ("城北大道", "仙来西大道", "胜利北路", "抱石大道", "劳动北路", "团结西路", "渝东大道")
PREFIXES = ("138", "139", "150", "151", "158", "186", "187", "135", "177")
HOUSEHOLD = ("家庭户", "集体户")
INDUSTRIES = ("制造业", "批发和零售业", "信息传输、软件和信息技术服务业", "建筑业", "住宿和餐饮业")


def id_check_digit(first17: str) -> str:
    """GB 11643-1999's check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def _id_number(rng: random.Random, born: date, female: bool) -> str:
    order = rng.randrange(0, 50) * 2 + (0 if female else 1)
    first17 = f"{REGION}{born:%Y%m%d}{rng.randrange(0, 10)}{order:02d}"
    return first17 + id_check_digit(first17)


def _phone(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _address(rng: random.Random) -> str:
    return f"新城市渝城区{rng.choice(STREETS)}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋"


def people(count: int = 60, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    rows = []
    for _ in range(count):
        female = rng.random() < 0.5
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
        rows.append(
            {
                "id_number": _id_number(rng, born, female),
                "name": _name(rng),
                "gender": "女" if female else "男",
                "birth_date": born.isoformat(),
                "phone": _phone(rng),
                "address": _address(rng),
                "household_type": rng.choice(HOUSEHOLD),
            }
        )
    return rows


def entities(count: int = 40, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    rows = []
    for index in range(count):
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
        rows.append(
            {
                "credit_code": f"91360502MA{index:04d}{rng.randrange(10**3, 10**4)}X",
                "entity_name": f"新城市{rng.choice(('鑫源', '华瑞', '恒达', '盛世', '金江'))}"
                f"{rng.choice(('科技', '建设', '商贸', '食品'))}有限公司",
                "legal_representative": _name(rng),
                "representative_id_number": _id_number(rng, born, rng.random() < 0.5),
                "contact_phone": _phone(rng),
                "registered_address": _address(rng),
                "industry": rng.choice(INDUSTRIES),
                "registered_capital": rng.randrange(10, 5000) * 10000,
            }
        )
    return rows


def land_parcels(count: int = 30, seed: int = 13) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    uses = ("住宅用地", "工业用地", "商业服务业用地", "耕地", "林地")
    return [
        {
            "parcel_code": f"360502{index:06d}",
            "land_use": rng.choice(uses),
            "area_m2": rng.randrange(500, 200000),
            "district": rng.choice(("渝城区", "高新区")),
        }
        for index in range(count)
    ]


def economy() -> list[dict[str, Any]]:
    rows = []
    for month in range(1, 13):
        rows.append(
            {
                "period": f"2026-{month:02d}",
                "indicator": "规模以上工业增加值增速",
                "value": round(5.0 + (month % 5) * 0.4, 1),
                "unit": "%",
            }
        )
        rows.append(
            {
                "period": f"2026-{month:02d}",
                "indicator": "社会消费品零售总额",
                "value": 60 + month * 3,
                "unit": "亿元",
            }
        )
    return rows


def _f(name: str, label: str, kind: str) -> dict[str, str]:
    return {"name": name, "label": label, "kind": kind}


def _p(name: str, label: str, kind: str = "", type_: str = "string") -> dict[str, Any]:
    return {"name": name, "label": label, "type": type_, "required": False, "kind": kind}


DEFAULT_OWNERS = {
    "population": "XC-GA",
    "legal_entity": "XC-FGW",
    "natural_resources": "XC-ZR",
    "macro_economy": "XC-FGW",
}


def catalogue(owners: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The fake's datasets (version 1), owners by database (unit codes of the demo city
    unless given)."""
    owner = {**DEFAULT_OWNERS, **(owners or {})}
    return [
        {
            "id": "population.residents",
            "version": 1,
            "database": "population",
            "name": "常住人口基本信息",
            "description": "全市常住人口的身份、联系方式和居住地址（人口基础信息库）。",
            "owner_unit_code": owner["population"],
            "status": "active",
            "fields": [
                _f("id_number", "公民身份号码", "id_number"),
                _f("name", "姓名", "name"),
                _f("gender", "性别", "code"),
                _f("birth_date", "出生日期", "date"),
                _f("phone", "手机号码", "phone"),
                _f("address", "居住地址", "address"),
                _f("household_type", "户别", "code"),
            ],
            "parameters": [
                _p("id_number", "公民身份号码", "id_number"),
                _p("name", "姓名", "name"),
                _p("gender", "性别"),
            ],
        },
        {
            "id": "legal_entity.registrations",
            "version": 1,
            "database": "legal_entity",
            "name": "法人单位基本信息",
            "description": "企业法人登记信息：统一社会信用代码、法定代表人及联系方式。",
            "owner_unit_code": owner["legal_entity"],
            "status": "active",
            "fields": [
                _f("credit_code", "统一社会信用代码", "code"),
                _f("entity_name", "单位名称", "text"),
                _f("legal_representative", "法定代表人", "name"),
                _f("representative_id_number", "法定代表人身份证号", "id_number"),
                _f("contact_phone", "联系电话", "phone"),
                _f("registered_address", "注册地址", "address"),
                _f("industry", "所属行业", "text"),
                _f("registered_capital", "注册资本（元）", "number"),
            ],
            "parameters": [
                _p("credit_code", "统一社会信用代码"),
                _p("industry", "所属行业"),
            ],
        },
        {
            "id": "natural_resources.land_parcels",
            "version": 1,
            "database": "natural_resources",
            "name": "土地利用现状图斑",
            "description": "第三次国土调查土地利用现状图斑属性（不含坐标）。",
            "owner_unit_code": owner["natural_resources"],
            "status": "active",
            "fields": [
                _f("parcel_code", "图斑编号", "code"),
                _f("land_use", "地类", "text"),
                _f("area_m2", "面积（平方米）", "number"),
                _f("district", "所在区", "text"),
            ],
            "parameters": [_p("land_use", "地类"), _p("district", "所在区")],
        },
        {
            "id": "macro_economy.monthly_indicators",
            "version": 1,
            "database": "macro_economy",
            "name": "宏观经济月度指标",
            "description": "规模以上工业增加值、社会消费品零售总额等月度指标。",
            "owner_unit_code": owner["macro_economy"],
            "status": "active",
            "fields": [
                _f("period", "统计期", "code"),
                _f("indicator", "指标", "text"),
                _f("value", "数值", "number"),
                _f("unit", "计量单位", "text"),
            ],
            "parameters": [_p("period", "统计期"), _p("indicator", "指标")],
        },
    ]


class BaseDataFake:
    """A handler ``(request) -> (status, payload)``: the request is anything with
    ``method``, ``path``, ``query`` (dict), ``headers`` (lower-cased dict) and ``body``
    (bytes), as notifications/fakes/server.py's ``Received``."""

    def __init__(self, secret: str, owners: dict[str, str] | None = None) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        # The change feed: every new version of an entry is appended.
        self.changes: list[dict[str, Any]] = list(catalogue(owners))
        self.rows: dict[str, list[dict[str, Any]]] = {
            "population.residents": people(),
            "legal_entity.registrations": entities(),
            "natural_resources.land_parcels": land_parcels(),
            "macro_economy.monthly_indicators": economy(),
        }
        self.failures_left = 0
        self.queries: list[dict[str, Any]] = []

    # --- test controls -------------------------------------------------------------------

    def fail_next(self, count: int) -> None:
        with self._lock:
            self.failures_left = count

    def publish(self, entry: dict[str, Any]) -> None:
        """A new version of an entry (or a new one) enters the change feed."""
        with self._lock:
            self.changes.append(entry)

    # --- the contract --------------------------------------------------------------------

    def __call__(self, req: Any) -> tuple[int, Any]:
        if not self.secret or verify(self.secret, req.body, req.headers):
            return 401, {"error": "bad or missing signature"}
        with self._lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return 503, {"error": "temporarily unavailable"}
        path = req.path.rstrip("/")
        if req.method == "GET" and path == "/catalogue":
            return self._catalogue(req.query)
        if req.method == "POST" and path.startswith("/datasets/") and path.endswith("/query"):
            return self._query(path[len("/datasets/") : -len("/query")], req)
        return 404, {"error": "not found"}

    def _catalogue(self, query: dict[str, str]) -> tuple[int, Any]:
        try:
            after = int(query.get("cursor") or 0)
            limit = max(1, min(int(query.get("limit") or 100), 500))
        except ValueError:
            return 400, {"error": "bad cursor or limit"}
        with self._lock:
            page = self.changes[after : after + limit]
            more = after + limit < len(self.changes)
        return 200, {"items": page, "next_cursor": str(after + len(page)), "more": more}

    def _query(self, dataset_id: str, req: Any) -> tuple[int, Any]:
        rows = self.rows.get(dataset_id)
        if rows is None:
            return 404, {"error": "no such dataset"}
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return 400, {"error": "body is not JSON"}
        parameters = body.get("parameters") or {}
        limit = body.get("limit") or 20
        if not isinstance(parameters, dict) or not isinstance(limit, int):
            return 400, {"error": "parameters must be an object, limit an integer"}
        matching = [
            row for row in rows if all(str(row.get(k)) == str(v) for k, v in parameters.items())
        ]
        with self._lock:
            self.queries.append(
                {"dataset": dataset_id, "parameters": parameters,
                 "requested_by": body.get("requested_by")}
            )  # fmt: skip
        return 200, {"rows": matching[: min(limit, PLATFORM_CAP)], "total": len(matching)}


def make(context: FakeContext) -> BaseDataFake:
    """The fake as ``python -m cityfakes serve`` mounts it under ``/basedata/``."""
    return BaseDataFake(context.secret)
