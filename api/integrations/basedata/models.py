"""The base data catalogue (基础数据库): datasets, access requests (grants) and the query
log. Docs: docs/integrations.md#base-data.

Rows change only in api/integrations/basedata/actions.py (and catalogue.py, which
applies the platform's catalogue entries). A grant is an approved ``AccessRequest``
whose period covers today: there is no separate grant table, so the request, its
decision and the grant a query is checked against are one row and one history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class BaseDatabase(models.TextChoices):
    POPULATION = "population", "人口"
    LEGAL_ENTITY = "legal_entity", "法人"
    NATURAL_RESOURCES = "natural_resources", "自然资源和空间地理"
    MACRO_ECONOMY = "macro_economy", "宏观经济"


class FieldKind(models.TextChoices):
    """What a dataset field holds. The first five are personal and masked by default."""

    ID_NUMBER = "id_number", "身份证号"
    PHONE = "phone", "手机号"
    NAME = "name", "姓名"
    ADDRESS = "address", "地址"
    EMAIL = "email", "电子邮箱"
    TEXT = "text", "文本"
    CODE = "code", "代码"
    NUMBER = "number", "数值"
    DATE = "date", "日期"


PERSONAL_KINDS = frozenset(
    {FieldKind.ID_NUMBER, FieldKind.PHONE, FieldKind.NAME, FieldKind.ADDRESS, FieldKind.EMAIL}
)


class ParameterType(models.TextChoices):
    STRING = "string", "字符串"
    INTEGER = "integer", "整数"
    DATE = "date", "日期"


class AccessLevel(models.TextChoices):
    MASKED = "masked", "脱敏"
    UNMASKED = "unmasked", "明文"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "已拒绝"
    REVOKED = "revoked", "已收回"


class QueryOutcome(models.TextChoices):
    OK = "ok", "成功"
    REFUSED = "refused", "拒绝"
    FAILED = "failed", "失败"


class Dataset(models.Model):
    """One dataset of the catalogue, as the base-data platform describes it.

    ``fields`` is a list of ``{"name", "label", "kind"}`` (kind: ``FieldKind``);
    ``parameters`` a list of ``{"name", "label", "type", "required", "kind"}``. Both are
    checked when an entry is applied (catalogue.py), so the query code can trust them.
    ``version`` is the platform's: an older or equal version never overwrites a newer one.
    """

    source_id = models.CharField(max_length=100, unique=True, help_text="the platform's id")
    database = models.CharField(max_length=20, choices=BaseDatabase.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="basedata_datasets"
    )
    fields = models.JSONField(default=list)
    parameters = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True, help_text="false once the platform retires it")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["database", "name", "id"]
        indexes = [models.Index(fields=["database", "active"], name="basedata_dataset_db_idx")]

    def __str__(self) -> str:
        return f"dataset {self.source_id}"


class AccessRequest(models.Model):
    """A person's request, on behalf of their unit, to query a dataset for a purpose
    and a period; approved (a grant) or refused by the owner unit's admin."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the unit the requester acts for (their unit when requesting)",
    )
    purpose = models.TextField()
    access_level = models.CharField(
        max_length=10, choices=AccessLevel.choices, default=AccessLevel.MASKED
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="last day of the grant (Asia/Shanghai), inclusive")
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["requester", "dataset", "status"], name="basedata_grant_idx"),
            models.Index(fields=["dataset", "status", "-id"], name="basedata_req_dataset_idx"),
        ]
        constraints = [
            # A second tap, or a retry, cannot file a second pending request.
            models.UniqueConstraint(
                fields=["requester", "dataset"],
                condition=Q(status="pending"),
                name="basedata_one_pending_request",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="basedata_request_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"access request {self.pk} {self.dataset_id} {self.status}"


class QueryLog(models.Model):
    """Every query through the proxy, refused and failed ones included.

    ``parameters`` are kept as sent: who looked up whom is what an inspection of the
    log needs; the log is readable only by the querier and the data owner's admins."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="queries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grant = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="queries"
    )
    parameters = models.JSONField(default=dict)
    access_level = models.CharField(max_length=10, choices=AccessLevel.choices, blank=True)
    outcome = models.CharField(max_length=10, choices=QueryOutcome.choices)
    code = models.CharField(max_length=60, blank=True, help_text="error code when not ok")
    rows_returned = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    queried_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["dataset", "-id"], name="basedata_log_dataset_idx"),
            models.Index(fields=["user", "-id"], name="basedata_log_user_idx"),
        ]

    def __str__(self) -> str:
        return f"query {self.pk} {self.dataset_id} {self.outcome}"
