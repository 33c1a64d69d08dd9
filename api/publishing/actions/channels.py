"""Channels (栏目). Docs: docs/publishing.md#channels.

A unit admin creates channels of their unit; the city IT admin creates city-wide ones.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from api.accounts import roles
from api.accounts.models import Unit, User
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden
from api.common.i18n import t
from api.publishing.models import Channel


def create_channel(
    actor: User, *, name: str, code: str, unit_id: int | None, description: str = ""
) -> Channel:
    unit = None
    if unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
        if unit is None:
            raise ApiError(
                "unit_not_found",
                message=t("单位不存在。", "The unit does not exist."),
                fields={"unit_id": [str(unit_id)]},
            )
    allowed = roles.is_city_it_admin(actor) if unit is None else roles.can_manage_unit(actor, unit)
    if not allowed:
        record_denied(
            "channel.create",
            actor=actor,
            obj=unit,
            detail={"code": code, "city_wide": unit is None},
        )
        raise Forbidden()
    if not name.strip():
        raise ApiError("validation_error", fields={"name": [t("名称不能为空。", "Required.")]})
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                name=name.strip(), code=code, unit=unit, description=description
            )
            record(
                "channel.created",
                actor=actor,
                obj=channel,
                unit_id=unit.pk if unit else None,
                detail={"name": channel.name, "code": code},
            )
    except IntegrityError:
        raise Conflict(
            "channel_code_taken", message=t("栏目代码已被使用。", "The channel code is taken.")
        ) from None
    return channel
