"""Organisation actions: units, posts (A/B), staff accounts, roles, appointment requests.

Docs: docs/organisation.md. Every function here is one state change with the same
shape: check permission first (a refusal is audited with ``record_denied`` outside
any transaction, then raised — 404 when the caller may not even see the object,
403 when they may see it but not do this); then, in one transaction, lock what
changes (``select_for_update``), change it and append the audit event.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone

from api.accounts import selectors
from api.accounts.models import (
    FILED_ROLES,
    AppointmentKind,
    AppointmentRequest,
    AppointmentStatus,
    Post,
    Role,
    RoleAssignment,
    Unit,
    UnitKind,
    User,
    UserSession,
)
from api.accounts.roles import (
    can_manage_unit,
    can_manage_user,
    can_view_people,
    can_view_user,
    is_city_it_admin,
    supervises_own_unit,
    within,
)
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, NotFound
from api.common.i18n import t

PATH_MAX_LENGTH = Unit._meta.get_field("path").max_length or 400

UNIT_FIELDS = ("name", "short_name", "code", "kind", "doc_prefix", "exchange_enabled", "is_active")
USER_FIELDS = ("display_name", "title", "mobile", "is_active")


# --- helpers ---------------------------------------------------------------------------


def _deny(
    action: str,
    actor: User,
    *,
    hidden: bool,
    reason: str,
    obj: Any = None,
    unit_id: int | None = None,
    code: str = "permission_denied",
    detail: dict[str, Any] | None = None,
    status_code: int = 403,
) -> NoReturn:
    """Audit a refused attempt, then raise 404 (``hidden``) or 403/422 with ``code``."""
    record_denied(
        action, actor=actor, obj=obj, unit_id=unit_id, detail={"reason": reason, **(detail or {})}
    )
    if hidden:
        raise NotFound()
    raise ApiError(code, status_code=status_code)


def _invalid(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def _user_ref(user: User | None) -> int | None:
    return user.pk if user is not None else None


def check_can_see_people(actor: User, unit: Unit, action: str) -> None:
    """404 (audited) unless ``actor`` may see the members and posts of ``unit``."""
    if not can_view_people(actor, unit):
        _deny(action, actor, hidden=True, reason="outside_scope", obj=unit, unit_id=unit.pk)


def _check_can_manage_people(actor: User, unit: Unit, action: str) -> None:
    check_can_see_people(actor, unit, action)
    if not can_manage_unit(actor, unit):
        _deny(action, actor, hidden=False, reason="not_unit_admin", obj=unit, unit_id=unit.pk)


# --- units -------------------------------------------------------------------------------


def _validate_kind(kind: str, parent: Unit | None) -> None:
    if (kind == UnitKind.CITY) != (parent is None):
        raise _invalid(
            "kind",
            "只有根单位的类型为“市”。",
            "Only the root unit is of kind 'city'.",
        )


def _check_unique(unit: Unit) -> None:
    """Friendly field errors for the unique constraints (the database still decides)."""
    others = Unit.objects.exclude(pk=unit.pk)
    if others.filter(code=unit.code).exists():
        raise _invalid("code", "单位编码已存在。", "A unit with this code exists.")
    if others.filter(parent_id=unit.parent_id, name=unit.name).exists():
        raise _invalid("name", "同级单位中已有此名称。", "A sibling unit has this name.")


def create_unit(
    actor: User,
    *,
    parent: Unit,
    name: str,
    code: str,
    kind: str,
    short_name: str = "",
    doc_prefix: str = "",
    exchange_enabled: bool = True,
) -> Unit:
    """Create a child unit of ``parent``: an admin of the parent's subtree or a city IT
    admin. The materialised path is computed here from the new row's id."""
    if not can_manage_unit(actor, parent):
        _deny(
            "unit.create",
            actor,
            hidden=False,
            reason="not_unit_admin",
            obj=parent,
            unit_id=parent.pk,
        )
    _validate_kind(kind, parent)
    try:
        with transaction.atomic():
            parent = Unit.objects.select_for_update().get(pk=parent.pk)
            unit = Unit(
                parent=parent,
                name=name,
                short_name=short_name,
                code=code,
                kind=kind,
                doc_prefix=doc_prefix,
                exchange_enabled=exchange_enabled,
            )
            _check_unique(unit)
            unit.save()
            unit.path = unit.compute_path()
            unit.depth = parent.depth + 1
            if len(unit.path) > PATH_MAX_LENGTH:
                raise _invalid("parent_id", "单位层级过深。", "The tree is too deep here.")
            unit.save(update_fields=["path", "depth"])
            record(
                "unit.created",
                actor=actor,
                obj=unit,
                unit_id=unit.pk,
                detail={"parent_id": parent.pk, "name": name, "code": code, "kind": kind},
            )
    except IntegrityError:
        raise _invalid("code", "单位编码或名称已存在。", "The code or name is taken.") from None
    return unit


def update_unit(actor: User, unit: Unit, changes: dict[str, Any]) -> Unit:
    """Rename or reconfigure a unit (an admin of its subtree or a city IT admin);
    moving it under another parent (``changes["parent"]``) only by a city IT admin,
    rewriting the whole subtree's paths in one UPDATE."""
    if not can_manage_unit(actor, unit):
        _deny(
            "unit.update", actor, hidden=False, reason="not_unit_admin", obj=unit, unit_id=unit.pk
        )
    new_parent: Unit | None = changes.get("parent")
    moving = "parent" in changes and (new_parent is None or new_parent.pk != unit.parent_id)
    if moving and not is_city_it_admin(actor):
        _deny(
            "unit.move",
            actor,
            hidden=False,
            reason="move_requires_city_it_admin",
            obj=unit,
            unit_id=unit.pk,
        )
    if moving:
        if new_parent is None or unit.parent_id is None:
            raise _invalid("parent_id", "根单位不能移动。", "The root unit cannot be moved.")
        if within(new_parent, unit):
            raise _invalid(
                "parent_id",
                "不能移到自身或下级单位之下。",
                "A unit cannot move under itself or its own subtree.",
            )
    try:
        with transaction.atomic():
            locked = Unit.objects.select_for_update().get(pk=unit.pk)
            diff: dict[str, list[Any]] = {}
            for field in UNIT_FIELDS:
                if field in changes and getattr(locked, field) != changes[field]:
                    diff[field] = [getattr(locked, field), changes[field]]
                    setattr(locked, field, changes[field])
            if "kind" in diff:
                _validate_kind(locked.kind, locked.parent)
            moved: dict[str, Any] | None = None
            if moving and new_parent is not None:
                moved = _move(locked, new_parent)
                if "kind" not in diff:
                    _validate_kind(locked.kind, locked.parent)
            if diff or moved:
                _check_unique(locked)
                locked.save()
            if diff:
                record(
                    "unit.updated",
                    actor=actor,
                    obj=locked,
                    unit_id=locked.pk,
                    detail={"changes": diff},
                )
            if moved:
                record("unit.moved", actor=actor, obj=locked, unit_id=locked.pk, detail=moved)
    except IntegrityError:
        raise _invalid("code", "单位编码或名称已存在。", "The code or name is taken.") from None
    return locked


def _move(unit: Unit, new_parent: Unit) -> dict[str, Any]:
    """Re-parent ``unit`` (locked) and rewrite the paths and depths of its whole
    subtree with one UPDATE: path = new_prefix || substr(path, len(old_prefix) + 1)."""
    new_parent = Unit.objects.select_for_update().get(pk=new_parent.pk)
    old_parent_id = unit.parent_id
    old_path = unit.path
    new_path = new_parent.path + old_path[-Unit.PATH_STEP :]
    delta = new_parent.depth + 1 - unit.depth
    longest = (
        selectors.subtree(unit)
        .annotate(n=Length("path"))
        .order_by("-n")
        .values_list("n", flat=True)
    ).first() or len(old_path)
    if longest - len(old_path) + len(new_path) > PATH_MAX_LENGTH:
        raise _invalid("parent_id", "移动后单位层级过深。", "The tree would be too deep.")
    count = selectors.subtree(unit).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    unit.parent = new_parent
    unit.path = new_path
    unit.depth = new_parent.depth + 1
    return {
        "from_parent_id": old_parent_id,
        "to_parent_id": new_parent.pk,
        "subtree_size": count,
    }


def assign_path(unit: Unit) -> None:
    """Set ``path`` and ``depth`` of a saved unit from its parent (used by seed_demo)."""
    unit.path = unit.compute_path()
    unit.depth = 0 if unit.parent is None else unit.parent.depth + 1


# --- posts (A/B) ---------------------------------------------------------------------------


def _post_person(unit: Unit, user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = selectors.user_in_subtree(user_id, unit)
    if user is None:
        raise _invalid(field, "该人员不属于本单位。", "This person does not belong to the unit.")
    if not user.is_active:
        raise _invalid(field, "该账号已停用。", "This account is deactivated.")
    return user


def _check_ab(holder: User | None, backup: User | None) -> None:
    if holder is not None and backup is not None and holder.pk == backup.pk:
        raise _invalid(
            "backup_id", "B岗不能与A岗为同一人。", "The backup must differ from the holder."
        )


def create_post(
    actor: User, unit: Unit, *, name: str, holder_id: int | None, backup_id: int | None
) -> Post:
    _check_can_manage_people(actor, unit, "post.create")
    holder = _post_person(unit, holder_id, "holder_id")
    backup = _post_person(unit, backup_id, "backup_id")
    _check_ab(holder, backup)
    try:
        with transaction.atomic():
            Unit.objects.select_for_update().filter(pk=unit.pk).first()
            if Post.objects.filter(unit=unit, name=name).exists():
                raise _invalid("name", "本单位已有同名岗位。", "The unit has a post of this name.")
            post = Post.objects.create(unit=unit, name=name, holder=holder, backup=backup)
            record(
                "post.created",
                actor=actor,
                obj=post,
                detail={
                    "name": name,
                    "holder_id": _user_ref(holder),
                    "backup_id": _user_ref(backup),
                },
            )
    except IntegrityError:
        raise _invalid(
            "name", "本单位已有同名岗位。", "The unit has a post of this name."
        ) from None
    return post


def check_can_see_post(actor: User, post: Post, action: str) -> None:
    if not can_view_people(actor, post.unit):
        _deny(action, actor, hidden=True, reason="outside_scope", obj=post)


def update_post(actor: User, post: Post, changes: dict[str, Any]) -> Post:
    """``changes`` may hold ``name``, ``holder_id`` and ``backup_id`` (None clears)."""
    _check_can_manage_people(actor, post.unit, "post.update")
    people = {
        field: _post_person(post.unit, changes[field], field)
        for field in ("holder_id", "backup_id")
        if field in changes
    }
    try:
        with transaction.atomic():
            locked = Post.objects.select_for_update().get(pk=post.pk)
            diff: dict[str, list[Any]] = {}
            if "name" in changes and changes["name"] != locked.name:
                if Post.objects.filter(unit_id=locked.unit_id, name=changes["name"]).exists():
                    raise _invalid(
                        "name", "本单位已有同名岗位。", "The unit has a post of this name."
                    )
                diff["name"] = [locked.name, changes["name"]]
                locked.name = changes["name"]
            for field, person in people.items():
                attr = field.removesuffix("_id")
                old = getattr(locked, field)
                if old != _user_ref(person):
                    diff[field] = [old, _user_ref(person)]
                    setattr(locked, attr, person)
            if locked.holder_id is not None and locked.holder_id == locked.backup_id:
                raise _invalid(
                    "backup_id", "B岗不能与A岗为同一人。", "The backup must differ from the holder."
                )
            if diff:
                locked.save()
                record("post.updated", actor=actor, obj=locked, detail={"changes": diff})
    except IntegrityError:
        raise _invalid(
            "name", "本单位已有同名岗位。", "The unit has a post of this name."
        ) from None
    return selectors.post_by_id(locked.pk) or locked


def delete_post(actor: User, post: Post) -> None:
    _check_can_manage_people(actor, post.unit, "post.delete")
    with transaction.atomic():
        locked = Post.objects.select_for_update().filter(pk=post.pk).first()
        if locked is None:
            return
        record(
            "post.deleted",
            actor=actor,
            obj=locked,
            detail={
                "name": locked.name,
                "holder_id": locked.holder_id,
                "backup_id": locked.backup_id,
            },
        )
        locked.delete()


# --- staff accounts ----------------------------------------------------------------------


def create_staff_user(
    actor: User,
    unit: Unit,
    *,
    username: str,
    display_name: str,
    password: str,
    title: str = "",
    mobile: str = "",
) -> User:
    """A unit admin creates a staff account in their subtree. The initial password
    passes Django's validators and must be changed at first login."""
    _check_can_manage_people(actor, unit, "user.create")
    if User.objects.filter(username__iexact=username).exists():
        raise _invalid("username", "用户名已被使用。", "This username is taken.")
    user = User(username=username, display_name=display_name, unit=unit, title=title, mobile=mobile)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ApiError("validation_error", fields={"password": list(exc.messages)}) from None
    try:
        with transaction.atomic():
            user.set_password(password)
            user.must_change_password = True
            user.password_changed_at = timezone.now()
            user.save()
            RoleAssignment.objects.create(user=user, role=Role.STAFF, unit=unit)
            record(
                "user.created",
                actor=actor,
                obj=user,
                detail={"username": username, "unit_id": unit.pk, "roles": [Role.STAFF.value]},
            )
    except IntegrityError:
        raise _invalid("username", "用户名已被使用。", "This username is taken.") from None
    return selectors.user_by_id(user.pk) or user


def check_can_see_user(actor: User, target: User, action: str) -> None:
    if not can_view_user(actor, target):
        _deny(action, actor, hidden=True, reason="outside_scope", obj=target)


def update_user(actor: User, target: User, changes: dict[str, Any]) -> User:
    """Change display name, title, mobile or active flag of a person in the admin's
    subtree. Deactivating someone also signs out all their devices."""
    check_can_see_user(actor, target, "user.update")
    if not can_manage_user(actor, target):
        _deny("user.update", actor, hidden=False, reason="not_unit_admin", obj=target)
    if actor.pk == target.pk and changes.get("is_active") is False:
        _deny(
            "user.update", actor, hidden=False, reason="own_account", obj=target, code="own_account"
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=target.pk)
        diff: dict[str, list[Any]] = {}
        for field in USER_FIELDS:
            if field in changes and getattr(locked, field) != changes[field]:
                diff[field] = [getattr(locked, field), changes[field]]
                setattr(locked, field, changes[field])
        if diff:
            locked.save(update_fields=list(diff))
            revoked = 0
            if diff.get("is_active", [None, None])[1] is False:
                revoked = UserSession.objects.filter(user=locked, revoked_at__isnull=True).update(
                    revoked_at=timezone.now()
                )
            record(
                "user.updated",
                actor=actor,
                obj=locked,
                detail={"changes": diff, "sessions_revoked": revoked},
            )
    return selectors.user_by_id(target.pk) or locked


# --- roles ----------------------------------------------------------------------------------


FILING_ROUTE = "/api/v1/appointments/"


def _check_role_change(actor: User, target: User, role: str, unit: Unit, action: str) -> None:
    """Who may grant or revoke a role directly. The order keeps the answers stable:
    404 for a person the caller cannot see, 403 ``own_account``, 403 for a caller who
    could not change this person's roles anyway, and only then 422 ``filed_role`` for
    every sensitive role — whose error names the filing route (``route``)."""
    check_can_see_user(actor, target, action)
    detail = {"role": role, "unit_id": unit.pk}
    if actor.pk == target.pk:
        _deny(
            action,
            actor,
            hidden=False,
            reason="own_account",
            obj=target,
            code="own_account",
            detail=detail,
        )
    if role == Role.CITY_IT_ADMIN:
        allowed = is_city_it_admin(actor)
    else:
        allowed = can_manage_user(actor, target) and can_manage_unit(actor, unit)
    if not allowed:
        _deny(action, actor, hidden=False, reason="not_unit_admin", obj=target, detail=detail)
    if role in FILED_ROLES:
        record_denied(action, actor=actor, obj=target, detail={"reason": "filed_role", **detail})
        raise ApiError("filed_role", status_code=422, extra={"route": FILING_ROUTE})


def grant_role(actor: User, target: User, role: str, unit: Unit) -> tuple[RoleAssignment, bool]:
    """Grant a plain role (or city_it_admin, by a city IT admin). Granting a role the
    person already holds there changes nothing and returns the existing row."""
    _check_role_change(actor, target, role, unit, "role.grant")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=target.pk).first()
        assignment, created = RoleAssignment.objects.get_or_create(
            user=target, role=role, unit=unit
        )
        if created:
            record(
                "role.granted",
                actor=actor,
                obj=target,
                detail={"role": role, "unit_id": unit.pk, "assignment_id": assignment.pk},
            )
    return assignment, created


def revoke_role(actor: User, target: User, assignment: RoleAssignment) -> None:
    _check_role_change(actor, target, assignment.role, assignment.unit, "role.revoke")
    with transaction.atomic():
        locked = RoleAssignment.objects.select_for_update().filter(pk=assignment.pk).first()
        if locked is None:
            return
        record(
            "role.revoked",
            actor=actor,
            obj=target,
            detail={"role": locked.role, "unit_id": locked.unit_id, "assignment_id": locked.pk},
        )
        locked.delete()


# --- appointment requests (备案) ----------------------------------------------------------------


def request_appointment(
    actor: User, *, kind: str, role: str, user_id: int, unit: Unit, reason: str = ""
) -> AppointmentRequest:
    """A unit admin of ``unit``'s subtree (or a city IT admin) asks to appoint or
    remove a unit admin or clerk. One pending request per (user, role, unit)."""
    if role not in FILED_ROLES:
        raise _invalid(
            "role",
            "只有单位系统管理员、收发文员、领导、印章管理员和督查人员需要备案。",
            "Only unit admin, clerk, leader, seal custodian and supervisor are filed.",
        )
    if not can_manage_unit(actor, unit):
        _deny(
            "appointment.request",
            actor,
            hidden=False,
            reason="not_unit_admin",
            obj=unit,
            unit_id=unit.pk,
            detail={"role": role, "user_id": user_id},
        )
    target = selectors.user_in_subtree(user_id, unit)
    holds = RoleAssignment.objects.filter(user_id=user_id, role=role, unit=unit).exists()
    if target is None and not holds:
        raise _invalid(
            "user_id", "该人员不属于本单位。", "This person does not belong to the unit."
        )
    if kind == AppointmentKind.APPOINT and holds and _filed(user_id, role, unit):
        raise ApiError("appointment_not_applicable", status_code=422)
    if kind == AppointmentKind.REMOVE and not holds:
        raise ApiError("appointment_not_applicable", status_code=422)
    if kind == AppointmentKind.APPOINT and target is not None:
        _check_not_own_supervisor(actor, role, target, unit, "appointment.request")
    try:
        with transaction.atomic():
            if AppointmentRequest.objects.filter(
                user_id=user_id, role=role, unit=unit, status=AppointmentStatus.PENDING
            ).exists():
                raise Conflict("appointment_pending")
            request = AppointmentRequest.objects.create(
                kind=kind,
                role=role,
                user_id=user_id,
                unit=unit,
                reason=reason,
                requested_by=actor,
            )
            record(
                "appointment.requested",
                actor=actor,
                obj=request,
                detail={
                    "kind": kind,
                    "role": role,
                    "user_id": user_id,
                    "unit_id": unit.pk,
                    "reason": reason,
                },
            )
    except IntegrityError:
        # The partial unique index caught a concurrent double tap.
        raise Conflict("appointment_pending") from None
    return selectors.appointment_by_id(request.pk) or request


def _check_not_own_supervisor(
    actor: User, role: str, person: User, unit: Unit, action: str
) -> None:
    if supervises_own_unit(person, role, unit):
        _deny(
            action,
            actor,
            hidden=False,
            reason="supervisor_own_unit",
            obj=person,
            code="supervisor_own_unit",
            status_code=422,
            detail={"role": role, "unit_id": unit.pk, "user_id": person.pk},
        )


def _filed(user_id: int, role: str, unit: Unit) -> bool:
    """An approved appointment request backs this role assignment. A role held
    without one (a direct grant from before filing) may be appointed to regularise it
    (docs/organisation.md#reviewing-direct-grants)."""
    return AppointmentRequest.objects.filter(
        user_id=user_id,
        role=role,
        unit=unit,
        kind=AppointmentKind.APPOINT,
        status=AppointmentStatus.APPROVED,
    ).exists()


def check_can_see_appointment(actor: User, request: AppointmentRequest, action: str) -> None:
    if not (is_city_it_admin(actor) or request.requested_by_id == actor.pk):
        _deny(action, actor, hidden=True, reason="outside_scope", obj=request)


def _check_decider(actor: User, request: AppointmentRequest, action: str) -> None:
    check_can_see_appointment(actor, request, action)
    if not is_city_it_admin(actor):
        _deny(action, actor, hidden=False, reason="not_city_it_admin", obj=request)
    if request.requested_by_id == actor.pk:
        _deny(
            action, actor, hidden=False, reason="self_approval", obj=request, code="self_approval"
        )


def _decide(
    actor: User, request: AppointmentRequest, status: str, note: str, action: str
) -> tuple[AppointmentRequest, bool]:
    """Lock the request; the same decision twice is a no-op returning the final state,
    a different decision on a closed request is a 409 carrying its status."""
    with transaction.atomic():
        locked = AppointmentRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status == status:
            return locked, False
        if locked.status != AppointmentStatus.PENDING:
            raise Conflict(extra={"status": locked.status})
        detail: dict[str, Any] = {
            "kind": locked.kind,
            "role": locked.role,
            "user_id": locked.user_id,
            "unit_id": locked.unit_id,
            "note": note,
        }
        if status == AppointmentStatus.APPROVED:
            detail["role_changed"] = _apply(locked)
        locked.status = status
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(action, actor=actor, obj=locked, detail=detail)
    return locked, True


def _apply(request: AppointmentRequest) -> bool:
    """Apply an approved request to the role assignments; True when a row changed."""
    if request.kind == AppointmentKind.APPOINT:
        _assignment, created = RoleAssignment.objects.get_or_create(
            user_id=request.user_id, role=request.role, unit_id=request.unit_id
        )
        return created
    deleted, _ = RoleAssignment.objects.filter(
        user_id=request.user_id, role=request.role, unit_id=request.unit_id
    ).delete()
    return deleted > 0


def approve_appointment(
    actor: User, request: AppointmentRequest, note: str = ""
) -> tuple[AppointmentRequest, bool]:
    """City IT admin approves (not their own request): the role change is applied in
    the same transaction. Returns (request, changed)."""
    _check_decider(actor, request, "appointment.approve")
    if request.kind == AppointmentKind.APPOINT and request.status == AppointmentStatus.PENDING:
        # The person may have moved into the supervised unit since the request.
        _check_not_own_supervisor(
            actor, request.role, request.user, request.unit, "appointment.approve"
        )
    return _decide(actor, request, AppointmentStatus.APPROVED, note, "appointment.approved")


def reject_appointment(
    actor: User, request: AppointmentRequest, note: str
) -> tuple[AppointmentRequest, bool]:
    _check_decider(actor, request, "appointment.reject")
    if not note.strip():
        raise _invalid("note", "驳回须填写理由。", "A rejection needs a note.")
    return _decide(actor, request, AppointmentStatus.REJECTED, note, "appointment.rejected")


def cancel_appointment(actor: User, request: AppointmentRequest) -> tuple[AppointmentRequest, bool]:
    """The requester withdraws a pending request."""
    check_can_see_appointment(actor, request, "appointment.cancel")
    if request.requested_by_id != actor.pk:
        _deny("appointment.cancel", actor, hidden=False, reason="not_requester", obj=request)
    return _decide(actor, request, AppointmentStatus.CANCELLED, "", "appointment.cancelled")


def move_subtree(unit: Unit, new_parent: Unit) -> dict[str, Any]:
    """Re-parent ``unit`` and rewrite its subtree's paths, without permission checks
    or audit: for ``seed_demo`` restoring the demo tree inside its own transaction
    (which records one ``demo.seeded`` event). The caller saves ``unit``."""
    return _move(unit, new_parent)
