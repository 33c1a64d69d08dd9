"""Address book (通讯录) API: ``/api/v1/contacts/…`` (docs/personal-office.md#address-book).

Everyone signed in may look up every active person: name, unit, posts, title, office
phone. The mobile number is shown to the same body (机关), the person's unit admins,
city IT admins and leaders' secretaries; masked (138****5678) for everyone else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import Unit, User
from api.accounts.roles import can_manage_unit
from api.accounts.selectors import pinyin_of
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import int_param, str_param
from api.common.schema import ERR_400, ERR_404, errors
from api.common.serializers import StrictSerializer
from api.office import actions, selectors
from api.office.views.common import IDEMPOTENCY, PAGE, path_id, user_of, validated

TAGS = ["contacts"]
MAX_TREE_PEOPLE = 500


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    initials = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.DictField()
    posts = serializers.ListField(child=serializers.CharField())
    office_phone = serializers.CharField()
    room = serializers.CharField()
    mobile = serializers.CharField(help_text="masked unless policy allows")
    mobile_masked = serializers.BooleanField()


class ContactPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ContactSerializer(many=True)


class ContactUnitNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    people = serializers.IntegerField()
    has_children = serializers.BooleanField()


class ContactTreeSerializer(serializers.Serializer):
    unit = ContactUnitNodeSerializer(allow_null=True)
    children = ContactUnitNodeSerializer(many=True)
    people = ContactSerializer(many=True)


class ContactCardWriteSerializer(StrictSerializer):
    office_phone = serializers.RegexField(
        r"^[0-9+\-() ]{0,40}$", required=False, allow_blank=True, default=""
    )
    room = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


def _contact(person: User, policy: selectors.MobilePolicy) -> dict[str, Any]:
    mobile, masked = policy.mobile(person)
    card = getattr(person, "contact_card", None)
    return {
        "id": person.pk,
        "display_name": person.display_name,
        "initials": pinyin_of(person.display_name)[0],
        "title": person.title,
        "unit": {"id": person.unit_id, "name": person.unit.name},
        "posts": [post.name for post in person.held_posts.all()],
        "office_phone": card.office_phone if card else "",
        "room": card.room if card else "",
        "mobile": mobile,
        "mobile_masked": masked,
    }


def _person_or_404(viewer: User, person_id: int) -> User:
    person = selectors.contacts().filter(pk=person_id).first()
    if person is None:
        record_denied(
            "office.contact_view", actor=viewer, object_type="accounts.user", object_id=person_id
        )
        raise NotFound()
    return person


class ContactPagination(CursorPagination):
    ordering = "id"


class ContactListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="contacts_search",
        summary="Search the address book (name, pinyin initials, unit, post, title)",
        parameters=[
            OpenApiParameter("q", str, description="1–32 characters"),
            OpenApiParameter("unit", int),
            *PAGE,
        ],
        responses={200: ContactPageSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        viewer = user_of(request)
        query = (str_param(request, "q", max_length=32) or "").strip()
        unit_id = int_param(request, "unit")
        unit = None
        if unit_id is not None:
            unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
            if unit is None:
                raise NotFound()
        paginator = ContactPagination()
        page = paginator.paginate_queryset(selectors.contacts(query, unit), request, view=self)
        policy = selectors.MobilePolicy(viewer)
        return Response(
            {
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [_contact(p, policy) for p in page or []],
            }
        )


class ContactTreeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="contacts_tree",
        summary="The organisation tree: a unit's sub-units and its own people",
        description=(
            "Without `unit`: the top of the tree. "
            f"At most {MAX_TREE_PEOPLE} people (search for more)."
        ),
        parameters=[OpenApiParameter("unit", int)],
        responses={200: ContactTreeSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        viewer = user_of(request)
        unit_id = int_param(request, "unit")
        unit = None
        if unit_id is not None:
            unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
            if unit is None:
                raise NotFound()
        children = (
            Unit.objects.filter(parent=unit, is_active=True)
            .annotate(
                people=Count("members", filter=Q(members__is_active=True), distinct=True),
                kids=Count("children", distinct=True),
            )
            .order_by("path")
        )
        policy = selectors.MobilePolicy(viewer)
        people = (
            selectors.contacts().filter(unit=unit).order_by("display_name", "id")[:MAX_TREE_PEOPLE]
            if unit is not None
            else []
        )
        return Response(
            {
                "unit": (
                    {"id": unit.pk, "name": unit.name, "people": 0, "has_children": True}
                    if unit
                    else None
                ),
                "children": [
                    {"id": c.pk, "name": c.name, "people": c.people, "has_children": c.kids > 0}
                    for c in children
                ],
                "people": [_contact(p, policy) for p in people],
            }
        )


class ContactDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="contacts_read",
        summary="One person's card",
        responses={200: ContactSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        viewer = user_of(request)
        return Response(
            _contact(_person_or_404(viewer, path_id(pk)), selectors.MobilePolicy(viewer))
        )

    @extend_schema(
        tags=TAGS,
        operation_id="contacts_card_update",
        summary="Set office phone and room (the person, or their unit admin)",
        parameters=[IDEMPOTENCY],
        request=ContactCardWriteSerializer,
        responses={200: ContactSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        viewer = user_of(request)
        person = _person_or_404(viewer, path_id(pk))
        if person.pk != viewer.pk and not can_manage_unit(viewer, person.unit):
            record_denied(
                "office.contact_update",
                actor=viewer,
                object_type="accounts.user",
                object_id=person.pk,
            )
            raise NotFound()
        data = validated(ContactCardWriteSerializer, request)
        actions.update_card(viewer, person, data["office_phone"], data["room"])
        return Response(_contact(_person_or_404(viewer, person.pk), selectors.MobilePolicy(viewer)))


class AnyAccept(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


class ContactVCardView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="contacts_vcard",
        summary="A person's vCard 3.0 (same masking)",
        responses={(200, "text/vcard"): OpenApiResponse(OpenApiTypes.STR), **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        viewer = user_of(request)
        person = _person_or_404(viewer, path_id(pk))
        contact = _contact(person, selectors.MobilePolicy(viewer))
        lines = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"FN:{_escape(person.display_name)}",
            f"N:{_escape(person.display_name)};;;;",
            f"ORG:{_escape(person.unit.name)}",
        ]
        if person.title:
            lines.append(f"TITLE:{_escape(person.title)}")
        if contact["office_phone"]:
            lines.append(f"TEL;TYPE=WORK,VOICE:{_escape(contact['office_phone'])}")
        if contact["mobile"] and not contact["mobile_masked"]:
            lines.append(f"TEL;TYPE=CELL:{_escape(contact['mobile'])}")
        lines.append("END:VCARD")
        response = HttpResponse(
            "\r\n".join(lines) + "\r\n", content_type="text/vcard; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="contact-{person.pk}.vcf"'
        response["Cache-Control"] = "private, no-store"
        return response
