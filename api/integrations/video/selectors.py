"""Who may view and manage which cameras. Docs: docs/integrations.md#video-permissions.

A person may view a camera when

* they are a city IT admin (they run the catalogue), or
* they are a unit admin of a unit subtree that owns the camera, or
* an active ``CameraGrant`` covers both them and the camera: the grant's grantee unit is
  their own unit or an ancestor of it (role blank), or of the unit where they hold the
  grant's role; and the camera has the grant's type (any, when blank) and its owner lies
  in the grant's owner subtree (any owner, when null).

Anyone else gets a 404 for the camera (recorded), and the list never shows it. Grants are
managed by the city IT admin (any grant) and by a unit admin for the cameras their
subtree owns (``owner_unit`` inside their subtree).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from api.accounts.models import Unit, User
from api.accounts.roles import admin_units, assignments_of, is_city_it_admin, managed_units
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.integrations.video.models import Camera, CameraGrant, ViewSession


def _ancestor_ids(unit: Unit) -> list[int]:
    return [int(step) for step in unit.path.split(".") if step]


def grants_for(user: User) -> QuerySet[CameraGrant]:
    """The active grants that name ``user`` (by unit subtree, or by role there)."""
    applies = Q(role="", grantee_unit_id__in=_ancestor_ids(user.unit))
    for assignment in assignments_of(user):
        applies |= Q(role=assignment.role, grantee_unit_id__in=_ancestor_ids(assignment.unit))
    return CameraGrant.objects.filter(applies, revoked_at__isnull=True).select_related("owner_unit")


def visible_cameras(user: User, *, include_retired: bool = False) -> QuerySet[Camera]:
    cameras = Camera.objects.all()
    if not include_retired:
        cameras = cameras.filter(retired_at__isnull=True)
    if is_city_it_admin(user):
        return cameras
    reach = Q(pk__in=[])
    for root in admin_units(user):
        reach |= Q(owner_unit__path__startswith=root.path)
    for grant in grants_for(user):
        covered = Q(pk__isnull=False)  # an empty Q() would vanish from the OR below
        if grant.camera_type:
            covered &= Q(camera_type=grant.camera_type)
        if grant.owner_unit is not None:
            covered &= Q(owner_unit__path__startswith=grant.owner_unit.path)
        reach |= covered
    return cameras.filter(reach)


def camera_or_404(user: User, camera_id: int, action: str = "video.camera_view") -> Camera:
    """The camera if ``user`` may view it (retired ones included); else a recorded 404."""
    camera = Camera.objects.select_related("owner_unit").filter(pk=camera_id).first()
    if camera is None:
        raise NotFound()
    if not visible_cameras(user, include_retired=True).filter(pk=camera_id).exists():
        record_denied(action, actor=user, obj=camera, detail={"reason": "no_grant"})
        raise NotFound()
    return camera


def can_manage_grants(user: User) -> bool:
    return is_city_it_admin(user) or bool(admin_units(user))


def can_grant_for_owner(user: User, owner: Unit | None) -> bool:
    """A city IT admin grants anything; a unit admin only for cameras their subtree owns."""
    if is_city_it_admin(user):
        return True
    if owner is None:
        return False
    return any(owner.path.startswith(root.path) for root in admin_units(user))


def manageable_grants(user: User) -> QuerySet[CameraGrant]:
    grants = CameraGrant.objects.select_related(
        "grantee_unit", "owner_unit", "created_by", "revoked_by"
    )
    if is_city_it_admin(user):
        return grants
    return grants.filter(owner_unit__in=managed_units(user))


def visible_views(user: User) -> QuerySet[ViewSession]:
    """The view records a person may read: every one for a city IT admin, those of the
    cameras their subtree owns for a unit admin, and their own for everyone."""
    views = ViewSession.objects.select_related("camera", "viewer")
    if is_city_it_admin(user):
        return views
    reach = Q(viewer=user)
    for root in admin_units(user):
        reach |= Q(camera__owner_unit__path__startswith=root.path)
    return views.filter(reach)


def own_view_or_404(user: User, view_id: int) -> ViewSession:
    view = ViewSession.objects.select_related("camera").filter(pk=view_id).first()
    if view is None:
        raise NotFound()
    if view.viewer_id != user.pk:
        record_denied(
            "video.view_session", actor=user, obj=view, unit_id=user.unit_id,
            detail={"reason": "not_viewer"},
        )  # fmt: skip
        raise NotFound()
    return view
