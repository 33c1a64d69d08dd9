"""Who sees which document. Docs: docs/documents.md#who-sees-a-document.

A document is visible to:
* its drafter;
* members of the owning unit's body (机关: the unit and its departments, see
  ``api.accounts.roles.is_member_of``) who hold a clerk, leader or unit-admin role;
* city IT admins;
* supervisors whose scope (their unit's subtree) contains the owning unit;
* anyone who has or had a workflow task on it (``api.workflow.selectors.has_task``).
Everyone else gets a 404, recorded as a denied attempt.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Length, Substr

from api.accounts.models import Role, Unit, UnitKind, User
from api.accounts.roles import (
    assignments_of,
    can_supervise_unit,
    is_city_it_admin,
    is_member_of,
    organisation_of,
    roles_of,
    supervised_units,
)
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.documents import hooks
from api.documents.models import Attachment, Document, RenderedPdf

MAX_ID = 2**63 - 1
BODY_ROLES = frozenset({Role.CLERK, Role.LEADER, Role.UNIT_ADMIN})
# Roles that may edit any editable document of their unit, and void its number.
CLERK_ROLES = frozenset({Role.CLERK})
VOID_ROLES = frozenset({Role.CLERK, Role.UNIT_ADMIN})


def _has_task(user: User, document_id: int) -> bool:
    return bool(hooks.workflow.has_task(user, document_id))


def can_view(user: User, document: Document) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if document.drafter_id == user.pk or is_city_it_admin(user):
        return True
    if roles_of(user) & BODY_ROLES and is_member_of(user, document.unit):
        return True
    if can_supervise_unit(user, document.unit):
        return True
    return _has_task(user, document.pk)


def _holds_role_for(user: User, document: Document, roles: frozenset[str]) -> bool:
    """``user`` holds one of ``roles`` at the document's unit or at its body."""
    body = organisation_of(document.unit)
    return any(
        a.role in roles and a.unit_id in (document.unit_id, body.pk) for a in assignments_of(user)
    )


def can_edit(user: User, document: Document) -> bool:
    """The drafter, or a clerk of the owning unit (status is checked separately)."""
    return document.drafter_id == user.pk or _holds_role_for(user, document, CLERK_ROLES)


def can_void_number(user: User, document: Document) -> bool:
    return _holds_role_for(user, document, VOID_ROLES)


def permissions_for(user: User, document: Document) -> dict[str, bool]:
    """What ``user`` may do to ``document`` now (shown to clients in advance)."""
    return {
        "edit": document.is_editable and can_edit(user, document),
        "void_number": bool(document.doc_number) and can_void_number(user, document),
    }


def _body_units(user: User) -> QuerySet[Unit]:
    """Units of the user's body: its organisation unit and the departments below it,
    stopping at any unit below that is a body of its own."""
    body = organisation_of(user.unit)
    bodies_between = (
        Unit.objects.filter(path__startswith=body.path)
        .exclude(kind=UnitKind.DEPARTMENT)
        .exclude(pk=body.pk)
        .annotate(prefix=Substr(OuterRef("path"), 1, Length("path")))
        .filter(prefix=F("path"))
    )
    return Unit.objects.filter(path__startswith=body.path).exclude(Exists(bodies_between))


def visible_documents(user: User) -> QuerySet[Document]:
    queryset = Document.objects.select_related("unit", "drafter")
    if is_city_it_admin(user):
        return queryset
    condition = Q(drafter=user)
    if roles_of(user) & BODY_ROLES:
        condition |= Q(unit__in=_body_units(user))
    for root in supervised_units(user):
        condition |= Q(unit__path__startswith=root.path)
    try:
        task_model = apps.get_model("workflow", "Task")
    except LookupError:
        task_model = None
    if task_model is not None:
        tasks = task_model.objects.filter(document=OuterRef("pk")).filter(
            Q(assignee=user) | Q(on_behalf_of=user)
        )
        condition = condition | Q(Exists(tasks))
    return queryset.filter(condition)


def document_or_404(user: User, document_id: int) -> Document:
    """The document when ``user`` may see it; otherwise NotFound, and a document that
    exists but is hidden is recorded as a denied attempt (call outside transactions)."""
    if not 0 < int(document_id) <= MAX_ID:
        raise NotFound()
    document = Document.objects.select_related("unit", "drafter").filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    if not can_view(user, document):
        record_denied(
            "document.access_denied",
            actor=user,
            obj=document,
            detail={"reason": "not_visible"},
        )
        raise NotFound()
    return document


def live_attachments(document: Document) -> QuerySet[Attachment]:
    return Attachment.objects.filter(document=document, deleted_at__isnull=True).order_by("id")


def attachment_or_404(document: Document, attachment_id: int) -> Attachment:
    if not 0 < int(attachment_id) <= MAX_ID:
        raise NotFound()
    attachment = live_attachments(document).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    return attachment


def versions(document: Document) -> QuerySet:
    return document.versions.select_related("edited_by").order_by("-version")


def current_pdf(document: Document) -> RenderedPdf | None:
    """The latest sealed rendering, else the latest rendering (None before the first)."""
    renderings = list(RenderedPdf.objects.filter(document=document).order_by("-version"))
    sealed = next((r for r in renderings if r.meta.get("sealed")), None)
    return sealed or (renderings[0] if renderings else None)


def sealed_pdf(document: Document) -> RenderedPdf | None:
    for rendering in RenderedPdf.objects.filter(document=document).order_by("-version"):
        if rendering.meta.get("sealed"):
            return rendering
    return None
