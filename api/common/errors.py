"""One error envelope for every failure: ``{"error": {"code", "message", "fields"}}``.

Docs: docs/api.md#errors lists the stable codes. Views raise ``ApiError`` (or a
subclass) with a code; DRF's own exceptions are mapped here; Django-level failures
(404 routes, 500s, oversized bodies) are rendered by ``error_response`` from the
handlers in api/urls.py and the middleware.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from api.common.i18n import Msg

logger = logging.getLogger(__name__)

# Default message per stable code.
MESSAGES: dict[str, Msg] = {
    "bad_request": Msg("请求无效。", "The request is not valid."),
    "malformed_json": Msg("请求体不是有效的 JSON。", "The request body is not valid JSON."),
    "validation_error": Msg("提交的数据有误。", "Some fields are not valid."),
    "unknown_field": Msg("包含不允许的字段。", "The request contains fields that are not allowed."),
    "not_authenticated": Msg("请先登录。", "Authentication is required."),
    "token_invalid": Msg("登录凭据无效或已过期。", "The token is invalid or has expired."),
    "session_revoked": Msg("该设备已退出登录。", "This device has been signed out."),
    "invalid_credentials": Msg("用户名或密码错误。", "The username or password is incorrect."),
    "password_expired": Msg("密码已过期，请修改密码。", "Your password has expired; change it."),
    "otp_required": Msg("请输入动态验证码。", "A one-time code is required."),
    "otp_invalid": Msg("动态验证码错误。", "The one-time code is incorrect."),
    "mfa_setup_required": Msg(
        "您的角色要求启用动态验证码，请先完成设置。",
        "Your role requires a one-time-code factor; set it up first.",
    ),
    "account_locked": Msg("尝试次数过多，请稍后再试。", "Too many attempts; try again later."),
    "password_incorrect": Msg("当前密码不正确。", "The current password is incorrect."),
    "totp_already_enabled": Msg(
        "动态验证码已启用；如需更换请先停用。",
        "A one-time-code factor is already enabled; disable it first to replace it.",
    ),
    "totp_not_pending": Msg(
        "没有待确认的动态验证码设置，请先发起设置。",
        "There is no one-time-code set-up to confirm; start the set-up first.",
    ),
    "totp_not_enabled": Msg("动态验证码未启用。", "No one-time-code factor is enabled."),
    "totp_required_by_role": Msg(
        "您的角色要求启用动态验证码，不能停用。",
        "Your role requires a one-time-code factor; it cannot be disabled.",
    ),
    "permission_denied": Msg("无权执行此操作。", "You do not have permission to do this."),
    "network_not_allowed": Msg(
        "请从政务内网或 VPN 访问。", "Access is allowed only from the intranet or the VPN."
    ),
    "not_found": Msg("未找到。", "Not found."),
    "method_not_allowed": Msg("不支持该请求方法。", "This method is not allowed."),
    "not_acceptable": Msg("无法提供所请求的格式。", "The requested format is not available."),
    "conflict": Msg("状态已变化，请刷新后重试。", "The state has changed; refresh and retry."),
    "payload_too_large": Msg("请求体过大。", "The request body is too large."),
    "unsupported_media_type": Msg(
        "不支持的内容类型，请使用 application/json。",
        "Unsupported content type; use application/json.",
    ),
    "invalid_idempotency_key": Msg(
        "Idempotency-Key 格式无效（8–128 个字母、数字或 -_:.）。",
        "Idempotency-Key must be 8–128 letters, digits or -_:.",
    ),
    "idempotency_key_reused": Msg(
        "该 Idempotency-Key 已用于另一个请求。",
        "This Idempotency-Key was already used for a different request.",
    ),
    "unprocessable": Msg("无法处理该请求。", "The request cannot be processed."),
    # Organisation (docs/organisation.md#codes)
    "filed_role": Msg(
        "单位系统管理员和收发文员的任免须提交备案申请，由市信息化部门审核。",
        "Unit admins and clerks are appointed or removed only through an approved request.",
    ),
    "own_account": Msg(
        "不能变更自己的角色或停用自己的账号。",
        "You cannot change your own roles or deactivate your own account.",
    ),
    "appointment_pending": Msg(
        "该人员已有一条待审核的同类任免申请。",
        "A pending request for this person, role and unit already exists.",
    ),
    "appointment_not_applicable": Msg(
        "该任免不适用：此人已担任或未担任该角色。",
        "The request does not apply: the person already holds, or does not hold, the role.",
    ),
    "self_approval": Msg(
        "不能审核自己提交的申请。", "You cannot decide a request you filed yourself."
    ),
    "throttled": Msg("请求过于频繁，请稍后再试。", "Too many requests; slow down."),
    "server_error": Msg("服务器内部错误，已记录。", "Internal server error; it has been logged."),
}


class ApiError(exceptions.APIException):
    """An error with a stable code. ``message`` defaults to the code's message."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        message: str | None = None,
        *,
        status_code: int | None = None,
        fields: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields
        self.extra = extra or {}
        self.message = message
        super().__init__(detail=message or self.code, code=self.code)


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


class Unprocessable(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def message_for(code: str) -> str:
    msg = MESSAGES.get(code)
    return str(msg) if msg else code


def envelope(
    code: str, message: str | None = None, fields: dict | None = None, extra: dict | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message or message_for(code)}
    if fields:
        body["fields"] = fields
    if extra:
        body.update(extra)
    return {"error": body}


def error_response(
    status_code: int, code: str, message: str | None = None, fields: dict | None = None
) -> JsonResponse:
    """A Django-level response in the envelope (for middleware and URL handlers)."""
    return JsonResponse(
        envelope(code, message, fields),
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


def _flatten_fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            str(k): _flatten_fields(v)
            if isinstance(v, dict)
            else [str(x) for x in v]
            if isinstance(v, list)
            else [str(v)]
            for k, v in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(x) for x in detail]}
    return {"non_field_errors": [str(detail)]}


_SIMPLE: list[tuple[type[Exception], int, str]] = [
    (exceptions.NotAuthenticated, 401, "not_authenticated"),
    (exceptions.PermissionDenied, 403, "permission_denied"),
    (exceptions.NotFound, 404, "not_found"),
    (exceptions.MethodNotAllowed, 405, "method_not_allowed"),
    (exceptions.NotAcceptable, 406, "not_acceptable"),
    (exceptions.UnsupportedMediaType, 415, "unsupported_media_type"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler producing the envelope for every error."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        data = envelope(exc.code, exc.message, exc.fields, exc.extra)
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(int(exc.extra["retry_after"]))
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(data, status=exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        return Response(envelope("not_found"), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(envelope("permission_denied"), status=403)
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope("payload_too_large"), status=413)
    if isinstance(exc, InvalidToken | TokenError | JWTAuthFailed):
        return Response(
            envelope("token_invalid"),
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    if isinstance(exc, exceptions.AuthenticationFailed):
        code = getattr(exc, "get_codes", lambda: None)()
        code = code if isinstance(code, str) and code in MESSAGES else "token_invalid"
        return Response(
            envelope(code), status=401, headers={"WWW-Authenticate": 'Bearer realm="api"'}
        )
    if isinstance(exc, exceptions.ParseError):
        return Response(envelope("malformed_json"), status=400)
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
        return Response(envelope("throttled"), status=429, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        return Response(envelope("validation_error", fields=fields), status=400)
    for cls, status_code, code in _SIMPLE:
        if isinstance(exc, cls):
            if status_code == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return Response(envelope(code), status=status_code, headers=headers)
    if isinstance(exc, exceptions.APIException):
        return Response(envelope("bad_request", str(exc.detail)), status=exc.status_code)
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(envelope("server_error"), status=500)
