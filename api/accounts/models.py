"""Organisation and identity: units (a tree), posts with A/B backups, users, roles,
appointment requests (备案), login sessions and login throttles.

Docs: docs/organisation.md and docs/security.md.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UnitKind(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇/街道"
    BUREAU = "bureau", "委办局"
    OFFICE = "office", "办公室"
    DEPARTMENT = "department", "内设部门"


class Unit(models.Model):
    """A node of the organisation tree: city → districts/counties → townships, with
    bureaus and departments inside units.

    ``path`` is a materialised path of zero-padded ids ("000001.000007.") so that a
    subtree is one indexed ``path__startswith`` query at province scale.
    """

    PATH_STEP = 10

    name = models.CharField(max_length=120)
    short_name = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=400, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    doc_prefix = models.CharField(
        max_length=20, blank=True, help_text="发文字号 prefix, e.g. 新府发"
    )
    exchange_enabled = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unit_unique_name_per_parent")
        ]

    def __str__(self) -> str:
        return self.name

    def compute_path(self) -> str:
        own = str(self.pk).zfill(self.PATH_STEP - 1) + "."
        return (self.parent.path if self.parent else "") + own

    def is_within(self, ancestor: Unit) -> bool:
        return self.path.startswith(ancestor.path)


class Role(models.TextChoices):
    STAFF = "staff", "工作人员"
    LEADER = "leader", "领导"
    CLERK = "clerk", "收发文员"
    UNIT_ADMIN = "unit_admin", "单位系统管理员"
    SEAL_CUSTODIAN = "seal_custodian", "印章管理员"
    SUPERVISOR = "supervisor", "督查人员"
    CITY_IT_ADMIN = "city_it_admin", "市信息化管理员"


# Roles whose appointment or removal needs the city IT department's approval (备案):
# every sensitive role (docs/organisation.md#roles). Only ``staff`` is granted directly,
# and ``city_it_admin`` only by a city IT admin.
FILED_ROLES = frozenset(
    {Role.UNIT_ADMIN, Role.CLERK, Role.LEADER, Role.SEAL_CUSTODIAN, Role.SUPERVISOR}
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra) -> User:
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra) -> User:
        # The platform has no Django superuser concept; a city IT admin is the top role.
        user = self.create_user(username, password, **extra)
        RoleAssignment.objects.create(user=user, role=Role.CITY_IT_ADMIN, unit=user.unit)
        return user


class User(AbstractBaseUser):
    """A person. Roles live in ``RoleAssignment`` rows and are read on every request."""

    username = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=64)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="members")
    title = models.CharField(max_length=64, blank=True, help_text="职务, e.g. 副市长")
    mobile = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(default=timezone.now)
    must_change_password = models.BooleanField(default=False)
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_counter = models.BigIntegerField(default=0)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)


class RoleAssignment(models.Model):
    """A role held by a user, scoped to a unit (and its subtree where that matters)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="role_assignments")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_unique_per_unit")
        ]


class Post(models.Model):
    """A post (岗位) in a unit, held by A with B as the backup (AB岗)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="posts")
    name = models.CharField(max_length=64)
    holder = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_posts"
    )
    backup = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="backup_posts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="post_unique_name_per_unit"),
            models.CheckConstraint(
                condition=Q(holder__isnull=True)
                | Q(backup__isnull=True)
                | ~Q(holder=models.F("backup")),
                name="post_backup_differs_from_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} / {self.name}"


class AppointmentKind(models.TextChoices):
    APPOINT = "appoint", "任命"
    REMOVE = "remove", "免除"


class AppointmentStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已备案"
    REJECTED = "rejected", "已驳回"
    CANCELLED = "cancelled", "已撤销"


class AppointmentRequest(models.Model):
    """Appointing or removing a holder of a sensitive role (``FILED_ROLES``): a unit
    admin asks, the city IT department approves or rejects; both steps are audited
    (信息化部门审核备案)."""

    kind = models.CharField(max_length=10, choices=AppointmentKind.choices)
    role = models.CharField(max_length=20, choices=Role.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="appointment_requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="appointment_requests")
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.PENDING
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One open request per (user, role, unit): a double tap cannot file two.
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=Q(status="pending"),
                name="appointment_one_pending",
            )
        ]


class UserSession(models.Model):
    """One signed-in device. Tokens carry its id (``sid``); revoking it cuts the
    device off at its next request (access tokens are checked against this row)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    device_name = models.CharField(max_length=100, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    mfa_satisfied = models.BooleanField(default=True)
    # jti of the session's one live refresh token (rotation blacklists the previous one).
    refresh_jti = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Passkey(models.Model):
    """A WebAuthn credential (passkey) of a user: a platform authenticator (the phone's
    fingerprint or face unlock) or a security key. Docs: docs/identity.md#passkeys-webauthn.

    Only the public key is stored; ``sign_count`` is the authenticator's counter at the
    last use (a counter that goes backwards means a cloned authenticator: refused).
    ``user_handle`` is the WebAuthn user.id given at registration (random, not the
    database id), returned by discoverable-credential sign-in and checked there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    # base64url of the raw credential id (≤ 1023 bytes by the spec): the form the
    # browser sends as ``id``, so a sign-in looks the credential up as it comes.
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField(help_text="COSE_Key of the credential")
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    user_handle = models.BinaryField(max_length=64)
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="passkey_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.name}"


class LoginThrottle(models.Model):
    """Failure counter per login key (a username, existing or not, or a source
    address). Kept in the database so every process of a deployment sees it."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)


class Absence(models.Model):
    """A period when ``user`` is away (A/B delegation, docs/delegation.md): while it is
    in effect, the user's tasks route to the backup of their post.

    In effect when ``starts_at <= t < ends_at`` and not cancelled. Ending it early sets
    ``ends_at`` to the moment it was ended. ``started_signalled``/``ended_signalled``
    record that ``absence_changed`` was sent for the transition (exactly once)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    ended_early_at = models.DateTimeField(null=True, blank=True)
    started_signalled = models.BooleanField(default=False)
    ended_signalled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["user", "ends_at"], name="absence_user_ends"),
            models.Index(
                fields=["starts_at"],
                condition=Q(started_signalled=False),
                name="absence_start_pending",
            ),
            models.Index(
                fields=["ends_at"],
                condition=Q(ended_signalled=False),
                name="absence_end_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"

    def in_effect(self, at=None) -> bool:
        at = at or timezone.now()
        return self.cancelled_at is None and self.starts_at <= at < self.ends_at
