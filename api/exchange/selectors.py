"""Who may see and act on exchange objects, and the read queries. Docs: docs/exchange.md.

* **Sender side**: a clerk or unit admin holding that role at the document's unit or
  at its body (机关) dispatches and recalls; whoever may see the document
  (``api.documents.selectors.can_view``) may read its per-recipient status.
* **Recipient side**: a clerk or unit admin holding that role **at the receiving unit
  itself** sees the receipt in the inbox, opens, signs for and returns it.
* Anyone else: 404, recorded as a denied attempt (``exchange.access_denied``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from api.accounts.models import Role, Unit, User
from api.accounts.roles import assignments_of, is_city_it_admin, organisation_of
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.documents.models import Document
from api.exchange.models import ExchangeGroup, Receipt

MAX_ID = 2**63 - 1
EXCHANGE_ROLES = frozenset({Role.CLERK, Role.UNIT_ADMIN})


def receiving_unit_ids(user: User) -> set[int]:
    """Units whose incoming exchange this user handles (clerk or unit admin there)."""
    return {a.unit_id for a in assignments_of(user) if a.role in EXCHANGE_ROLES}


def may_receive(user: User, unit_id: int) -> bool:
    return unit_id in receiving_unit_ids(user)


def may_send_for(user: User, unit: Unit) -> bool:
    """Clerk or unit admin of ``unit`` or of its body: may dispatch and recall."""
    body = organisation_of(unit)
    return any(
        a.role in EXCHANGE_ROLES and a.unit_id in (unit.pk, body.pk) for a in assignments_of(user)
    )


def may_manage_groups(user: User) -> bool:
    return is_city_it_admin(user)


def receipts_with_refs() -> QuerySet[Receipt]:
    """Receipts with what an item shows, in one query (no per-row lookups)."""
    return Receipt.objects.select_related(
        "unit",
        "dispatch__sender_unit",
        "dispatch__document",
        "dispatch__rendering",
        "signed_for_by",
        "returned_by",
        "recalled_by",
        "reply_receipt__dispatch",
        "in_reply_to__dispatch",
    ).defer("dispatch__document__body")


def inbox(user: User, state: str | None) -> QuerySet[Receipt]:
    """The receipts addressed to the units this user receives for; ``state`` None =
    every state."""
    queryset = receipts_with_refs().filter(unit_id__in=receiving_unit_ids(user))
    if state is not None:
        queryset = queryset.filter(state=state)
    return queryset


def receipt_or_404(user: User, receipt_id: int, action: str) -> tuple[Receipt, str]:
    """(receipt, side) where side is "recipient" or "sender"; a receipt the user may
    not see is a 404, recorded when it exists. Call outside transactions."""
    if not 0 < int(receipt_id) <= MAX_ID:
        raise NotFound()
    receipt = receipts_with_refs().filter(pk=receipt_id).first()
    if receipt is None:
        raise NotFound()
    if may_receive(user, receipt.unit_id):
        return receipt, "recipient"
    if may_send_for(user, receipt.dispatch.document.unit):
        return receipt, "sender"
    record_denied(
        "exchange.access_denied",
        actor=user,
        obj=receipt,
        unit_id=receipt.unit_id,
        detail={"action": action, "receipt_id": receipt.pk},
    )
    raise NotFound()


def dispatch_receipts(document: Document, state: str | None) -> QuerySet[Receipt]:
    queryset = receipts_with_refs().filter(dispatch__document=document)
    if state is not None:
        queryset = queryset.filter(state=state)
    return queryset


def groups() -> QuerySet[ExchangeGroup]:
    return ExchangeGroup.objects.prefetch_related("units")
