"""Workflow templates admin API: /api/v1/workflow-templates/ (docs/workflow.md#templates-api).

GET lists the templates usable by my unit (its own and its ancestors'), or with
``?unit=<id>`` by that unit (members of its body and its admins; others 404);
``include_inactive=true`` adds retired versions for the unit's admins. Unit admins
of a unit's subtree (and city IT admins) create, update (copy on write when in use)
and deactivate that unit's templates; every change is audited.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts import selectors as org
from api.accounts.roles import can_manage_unit, is_member_of
from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import bool_param, choice_param
from api.common.people import PersonRefSerializer, person_ref
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, ERR_422, errors
from api.common.serializers import StrictSerializer
from api.workflow import actions, selectors
from api.workflow.models import (
    AssigneeKind,
    CountersignMode,
    Direction,
    StepKind,
    TemplateStep,
    WorkflowTemplate,
)

TAGS = ["workflow-templates"]


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TemplateStepSerializer(serializers.ModelSerializer):
    post = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    time_limit_days = serializers.FloatField(allow_null=True)

    class Meta:
        model = TemplateStep
        fields = [
            "order",
            "kind",
            "name",
            "assignee_kind",
            "post",
            "user",
            "choice_key",
            "required",
            "countersign_mode",
            "standard_opinion",
            "batchable",
            "time_limit_days",
        ]

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_post(self, step: TemplateStep) -> dict | None:
        return {"id": step.post.pk, "name": step.post.name} if step.post else None

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_user(self, step: TemplateStep) -> dict | None:
        return person_ref(step.user)


class TemplateSerializer(serializers.ModelSerializer):
    unit = serializers.SerializerMethodField()
    steps = TemplateStepSerializer(many=True, read_only=True)

    class Meta:
        model = WorkflowTemplate
        fields = [
            "id",
            "unit",
            "name",
            "direction",
            "doc_types",
            "is_active",
            "version",
            "replaces",
            "steps",
            "created_at",
            "updated_at",
            "usual",
        ]

    usual = serializers.SerializerMethodField(
        help_text="the unit's usual template for this direction (most used by its documents "
        "in the last 180 days); only in a list asked with ?direction="
    )

    @extend_schema_field(RefSerializer)
    def get_unit(self, template: WorkflowTemplate) -> dict:
        return {"id": template.unit.pk, "name": template.unit.name}

    def get_usual(self, template: WorkflowTemplate) -> bool:
        return template.pk == self.context.get("usual_template_id")


class StepInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=StepKind.choices)
    name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    assignee_kind = serializers.ChoiceField(choices=AssigneeKind.choices)
    post = serializers.IntegerField(required=False, allow_null=True)
    user = serializers.IntegerField(required=False, allow_null=True)
    choice_key = serializers.CharField(max_length=40, required=False, allow_blank=True)
    countersign_mode = serializers.ChoiceField(
        choices=CountersignMode.choices, required=False, default=CountersignMode.PARALLEL
    )
    standard_opinion = serializers.CharField(max_length=40, required=False, allow_blank=True)
    batchable = serializers.BooleanField(required=False, default=False)
    time_limit_days = serializers.FloatField(required=False, allow_null=True, min_value=0.5)

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute named "required" would shadow Field.required.
        fields["required"] = serializers.BooleanField(required=False, default=True)
        return fields


class TemplateCreateSerializer(StrictSerializer):
    unit = serializers.IntegerField()
    name = serializers.CharField(max_length=100)
    direction = serializers.ChoiceField(choices=Direction.choices)
    doc_types = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    steps = StepInputSerializer(many=True)


class TemplateUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    doc_types = serializers.ListField(child=serializers.CharField(), required=False)
    steps = StepInputSerializer(many=True, required=False)


class TemplatePagination(CursorPagination):
    ordering = "-id"


@extend_schema(tags=TAGS)
class TemplateListView(generics.ListAPIView):
    serializer_class = TemplateSerializer
    pagination_class = TemplatePagination

    def get_queryset(self):
        actor = current_user(self.request)
        unit = actor.unit
        raw = self.request.query_params.get("unit")
        include_inactive = bool(bool_param(self.request, "include_inactive"))
        if raw is not None:
            found = org.unit_by_id(int(raw)) if str(raw).isdigit() else None
            if found is None or not (can_manage_unit(actor, found) or is_member_of(actor, found)):
                record_denied(
                    "workflow_template.list",
                    actor=actor,
                    object_type="accounts.unit",
                    object_id=raw,
                )
                raise NotFound()
            unit = found
        include_inactive = include_inactive and can_manage_unit(actor, unit)
        queryset = selectors.templates_usable_by(unit, include_inactive=include_inactive)
        direction = choice_param(self.request, "direction", list(Direction.values))
        if direction is not None:
            queryset = queryset.filter(direction=direction)
            self.usual_template_id = selectors.usual_template_id(unit, direction)
        return queryset

    usual_template_id: int | None = None

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "usual_template_id": self.usual_template_id}

    @extend_schema(
        summary="Templates usable by my unit (or ?unit=)",
        parameters=[
            OpenApiParameter("unit", int, description="a unit id (default: my unit)"),
            OpenApiParameter("direction", str, enum=list(Direction.values)),
            OpenApiParameter(
                "include_inactive", bool, description="retired versions too (unit admins)"
            ),
        ],
        responses={200: TemplateSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a template (unit admin of the unit's subtree)",
        request=TemplateCreateSerializer,
        responses={201: TemplateSerializer, **errors(ERR_400, ERR_403, ERR_422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = TemplateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        unit = org.unit_by_id(values["unit"])
        if unit is None:
            record_denied(
                "workflow_template.create",
                actor=current_user(request),
                object_type="accounts.unit",
                object_id=values["unit"],
            )
            raise NotFound()
        template = actions.create_template(
            current_user(request),
            unit=unit,
            name=values["name"],
            direction=values["direction"],
            doc_types=values["doc_types"],
            steps=[dict(step) for step in values["steps"]],
        )
        template = selectors.templates_usable_by_any().get(pk=template.pk)
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class TemplateDetailView(APIView):
    @extend_schema(
        summary="One template with its steps",
        responses={200: TemplateSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        template = selectors.template_or_404(current_user(request), pk)
        return Response(TemplateSerializer(template).data)

    @extend_schema(
        summary="Change a template (a new version when documents already use it)",
        description="Answers the template now in force: when the template was in use it "
        "is the new version (another id, ``replaces`` = this id) and this one is retired.",
        request=TemplateUpdateSerializer,
        responses={200: TemplateSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409, ERR_422)},
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        actor = current_user(request)
        selectors.template_or_404(actor, pk, "workflow_template.update")
        data = TemplateUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "steps" in changes:
            changes["steps"] = [dict(step) for step in changes["steps"]]
        template = actions.update_template(pk, actor, changes)
        template = selectors.templates_usable_by_any().get(pk=template.pk)
        return Response(TemplateSerializer(template).data)


class EmptySerializer(StrictSerializer):
    pass


@extend_schema(tags=TAGS)
class TemplateDeactivateView(APIView):
    @extend_schema(
        summary="Retire a template (running documents go on unchanged)",
        request=EmptySerializer,
        responses={200: TemplateSerializer, **errors(ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = current_user(request)
        selectors.template_or_404(actor, pk, "workflow_template.deactivate")
        EmptySerializer(data=request.data or {}).is_valid(raise_exception=True)
        actions.deactivate_template(pk, actor)
        template = selectors.templates_usable_by_any().get(pk=pk)
        return Response(TemplateSerializer(template).data)
