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

from api.common.datetimes import ClientDjangoJSONEncoder
from api.common.i18n import Msg, localise

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
    # Passkeys (docs/identity.md#passkeys-webauthn)
    "passkey_invalid": Msg(
        "通行密钥验证失败，请重试。", "The passkey could not be verified; try again."
    ),
    "passkey_registration_failed": Msg(
        "通行密钥登记失败，请重新发起。",
        "The passkey could not be registered; start again.",
    ),
    "passkey_already_registered": Msg(
        "该通行密钥已经登记。", "This passkey is already registered."
    ),
    "passkey_limit_reached": Msg(
        "通行密钥数量已达上限，请先删除不用的。",
        "You have the most passkeys allowed; delete one you no longer use.",
    ),
    "no_passkey": Msg("您还没有登记通行密钥。", "You have not registered a passkey."),
    "reauthentication_required": Msg(
        "请输入当前密码或使用通行密钥确认。",
        "Confirm with your current password or a passkey.",
    ),
    "step_up_failed": Msg(
        "通行密钥确认失败，审批未记录，请重试。",
        "The passkey confirmation failed; nothing was recorded. Try again.",
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
    "idempotency_in_progress": Msg(
        "相同 Idempotency-Key 的请求仍在处理中，请稍后重试。",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    ),
    "unprocessable": Msg("无法处理该请求。", "The request cannot be processed."),
    # Organisation (docs/organisation.md#codes)
    "filed_role": Msg(
        "单位系统管理员、收发文员、领导、印章管理员和督查人员的任免须提交任免备案申请"
        "（POST /api/v1/appointments/），由市信息化部门审核备案。",
        "Unit admins, clerks, leaders, seal custodians and supervisors are appointed or "
        "removed only through an appointment request (POST /api/v1/appointments/) "
        "approved by the city IT department.",
    ),
    "supervisor_own_unit": Msg(
        "不能任命某人为其本单位的督查人员：督查须由本单位以外的人员承担。",
        "Nobody may be a supervisor over their own unit: supervision comes from outside it.",
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
    # A/B delegation (docs/delegation.md#codes)
    "absence_overlaps": Msg(
        "该时段与已登记的外出（请假）重叠。",
        "The period overlaps an absence already declared.",
    ),
    "absence_not_in_effect": Msg(
        "该外出（请假）当前不在有效期内，无法结束。",
        "The absence is not in effect now, so it cannot be ended.",
    ),
    "absence_already_started": Msg(
        "该外出（请假）已开始，请使用“结束”。",
        "The absence has already started; end it instead.",
    ),
    "absence_cancelled": Msg("该外出（请假）已撤销。", "The absence has been cancelled."),
    # Working-day calendar (docs/workdays.md#codes)
    "calendar_override_exists": Msg(
        "该日期已有调整记录，请先删除。",
        "An override for this date exists; delete it first.",
    ),
    # Documents (docs/documents.md#codes)
    "classified_refused": Msg(
        "平台只处理非涉密公文：不能录入标有密级（秘密、机密、绝密）的内容。此次尝试已记录。",
        "Only non-classified documents may be handled here: content marked secret, "
        "confidential or top secret is refused. The attempt has been recorded.",
    ),
    "version_conflict": Msg(
        "公文已被他人修改，请刷新后再编辑。",
        "The document was changed by someone else; reload it and edit again.",
    ),
    "document_not_editable": Msg(
        "公文只有在草稿或被退回时才能修改。",
        "A document can be edited only while it is a draft or returned.",
    ),
    "attachment_check_pending": Msg(
        "附件正在转换并检查密级标志，请稍后再提交。",
        "An attachment is still being converted and checked for classification markings; "
        "submit again in a moment.",
    ),
    "attachment_type_refused": Msg(
        "不支持该附件类型，或文件内容与扩展名不符。"
        "支持 PDF、OFD、DOCX、XLSX、PPTX、PNG、JPEG、WebP 和纯文本。",
        "This attachment type is not accepted, or the content does not match the extension. "
        "Accepted: PDF, OFD, DOCX, XLSX, PPTX, PNG, JPEG, WebP and plain text.",
    ),
    "attachment_too_large": Msg("附件超过大小上限。", "The attachment exceeds the size limit."),
    "upload_bomb": Msg(
        "文件解压或解码后过大（压缩炸弹、条目过多或像素过多），已拒绝。",
        "The file is too large once unpacked or decoded (entries, size or pixels); refused.",
    ),
    "upload_active_content": Msg(
        "PDF 含有脚本、自动动作或嵌入文件等主动内容，已拒绝。",
        "The PDF carries active content (script, automatic action or embedded file); refused.",
    ),
    "upload_polyglot": Msg(
        "文件同时可被解读为网页或脚本，已拒绝。",
        "The file can also be read as a web page or script; refused.",
    ),
    "instruction_image_type": Msg(
        "批示图片必须是 PNG 格式。", "The instruction image must be a PNG file."
    ),
    "instruction_image_too_large": Msg(
        "批示图片过大（字节数或像素数超过上限）。",
        "The instruction image is too large (bytes or pixels over the limit).",
    ),
    "instruction_strokes_invalid": Msg(
        "笔迹数据无效（笔画、点数或坐标超出范围）。",
        "The strokes are not valid (too many strokes or points, or outside the canvas).",
    ),
    "number_not_applicable": Msg(
        "只有流转中的发文才能编发文字号。",
        "Only an outgoing document in progress can be given a document number.",
    ),
    "number_prefix_missing": Msg(
        "本单位尚未设置发文字号前缀（机关代字）。",
        "The unit has no document-number prefix configured.",
    ),
    "not_numbered": Msg("该公文没有发文字号。", "This document has no document number."),
    # Workflow (docs/workflow.md#refusal-codes)
    "task_not_open": Msg("该待办已处理或已不在您这里。", "This task is no longer open."),
    "urge_not_allowed": Msg(
        "只有发送人、拟稿人或督查人员可以催办。",
        "Only the sender, the drafter or a supervisor may urge this task.",
    ),
    "urge_too_soon": Msg("刚刚催办过，请稍后再催。", "You urged this task recently; try later."),
    "urge_capped": Msg(
        "对方近期已就此事多次被催办（各催办人合计已达上限），为免重复打扰，请稍后再催。",
        "This person has already been urged about this item as often as allowed for now "
        "(by everyone together); to spare them repeated reminders, try again later.",
    ),
    "not_your_task": Msg("这不是您的待办。", "This task is not yours to act on."),
    "not_batchable": Msg("该步骤不允许批量处理。", "This step cannot be approved in a batch."),
    "batch_too_large": Msg(
        "一次最多批量处理 100 件。", "At most 100 tasks can be approved at once."
    ),
    "opinion_required": Msg("退回须填写理由。", "An opinion (the reason) is required."),
    "return_target_invalid": Msg(
        "退回对象无效：发文可退回上一步或拟稿人，收文还可退回来文单位。",
        "Return to the previous step or the drafter; incoming documents also to the sender.",
    ),
    "circulation_step": Msg(
        "传阅件只需阅知，不能退回或转交。", "A circulation copy is only acknowledged."
    ),
    "not_circulation_step": Msg("当前不是传阅步骤。", "This is not a circulation step."),
    "not_countersign_step": Msg(
        "只有会签步骤可以加签。", "Only a countersign step takes more signers."
    ),
    "not_sender": Msg(
        "只有送出当前步骤的人可以这样做。", "Only the person who sent it to this step may do this."
    ),
    "next_step_started": Msg(
        "下一步已有人处理，不能撤回。",
        "Someone has already acted on the next step; it cannot be withdrawn.",
    ),
    "instance_not_running": Msg(
        "该公文不在流转中。", "This document is not in a running workflow."
    ),
    "workflow_already_running": Msg(
        "该公文已在流转中。", "This document is already in a workflow."
    ),
    "document_not_submittable": Msg(
        "只有草稿、已撤回或已退回的公文可以送审。",
        "Only a draft, withdrawn or returned document can be submitted.",
    ),
    "not_drafter": Msg(
        "只有拟稿人或本单位收发文员可以送审。",
        "Only the drafter or a clerk of the unit can submit this document.",
    ),
    "template_not_usable": Msg(
        "该流程模板不适用于此公文。", "This workflow template does not apply to this document."
    ),
    "participants_missing": Msg(
        "请选择流程中需要的办理人。", "Choose the people the workflow needs."
    ),
    "countersigner_signs_off": Msg(
        "会签人和签发人不能是同一人。",
        "The same person cannot both countersign and sign off.",
    ),
    "participant_out_of_scope": Msg(
        "所选人员不在本公文的流转范围内。", "A chosen person is outside this document's scope."
    ),
    "already_assigned": Msg("该人员已在本步骤中。", "This person is already on this step."),
    "transfer_to_self": Msg("不能转交给自己。", "You cannot transfer a task to yourself."),
    "step_unassigned": Msg(
        "流程步骤没有可办理的人员，请联系单位系统管理员。",
        "A workflow step has nobody to act on it; ask the unit admin.",
    ),
    "step_not_found": Msg("流程中没有该步骤。", "The workflow has no such step."),
    "reason_required": Msg("请填写原因。", "A reason is required."),
    "template_invalid": Msg("流程模板配置有误。", "The workflow template is not valid."),
    # Electronic seals (docs/seals.md#error-codes)
    "not_a_pdf": Msg("上传的文件不是 PDF。", "The file is not a PDF."),
    "not_rendered": Msg("公文尚未排版生成。", "The document has not been rendered yet."),
    "render_unavailable": Msg(
        "页面图像暂时无法生成，请稍后重试。", "The page could not be rendered; try again later."
    ),
    "preview_not_ready": Msg(
        "附件预览尚未生成或无法预览，可下载原文件。",
        "The preview is not ready or cannot be made; download the original.",
    ),
    "seal_ca_exists": Msg("部署根证书已存在，不能覆盖。", "The deployment CA exists already."),
    "seal_ca_missing": Msg("尚未创建部署根证书。", "The deployment CA has not been created."),
    "seal_key_missing": Msg("签章密钥文件缺失。", "A signing key file is missing."),
    "seal_key_unreadable": Msg(
        "签章密钥无法解密，请检查口令配置。",
        "A signing key cannot be decrypted; check the passphrase setting.",
    ),
    "seal_certificate_exists": Msg(
        "该单位已有有效的签章证书，请先吊销。",
        "The unit already holds an unrevoked certificate; revoke it first.",
    ),
    "seal_certificate_missing": Msg(
        "该单位没有有效的签章证书。", "The unit holds no unrevoked certificate."
    ),
    "seal_certificate_revoked": Msg("签章证书已吊销。", "The seal's certificate is revoked."),
    "seal_certificate_expired": Msg("签章证书已过期。", "The seal's certificate has expired."),
    "seal_not_configured": Msg("本单位尚未配置电子印章。", "The unit has no active seal."),
    "not_seal_custodian": Msg(
        "只有本单位的印章管理员可以用印。", "Only a seal custodian of the unit may apply its seal."
    ),
    "document_not_signed_off": Msg(
        "公文尚未签发编号，不能用印。", "The document is not signed off and numbered yet."
    ),
    "seal_required": Msg(
        "用印环节须通过用印操作完成（动态验证码确认）。",
        "A seal step is completed by sealing (with a one-time code), not by approving.",
    ),
    "not_seal_step": Msg("该环节不是用印环节。", "This step is not a seal step."),
    "dispatch_required": Msg(
        "分发环节须通过公文交换发送完成（选择收文单位并分发），不能直接办结。",
        "A distribute step is completed by dispatching the document through the exchange "
        "(choose the recipient units and send it), not by approving.",
    ),
    "not_distribute_step": Msg("该环节不是分发环节。", "This step is not a distribute step."),
    "not_sealed": Msg("公文尚未用印。", "The document has not been sealed yet."),
    "seal_box_invalid": Msg("用印位置无效。", "The seal position is not on the page."),
    "seal_image_too_large": Msg("印章图像文件过大。", "The seal image file is too large."),
    "seal_image_type": Msg(
        "印章图像须为 PNG 或 JPEG 格式。", "The seal image must be a PNG or JPEG file."
    ),
    "seal_image_type_mismatch": Msg(
        "印章图像的扩展名与内容不符。", "The seal image's file name does not match its content."
    ),
    "seal_image_too_many_pixels": Msg("印章图像尺寸过大。", "The seal image has too many pixels."),
    "seal_image_invalid": Msg("印章图像已损坏或无法读取。", "The seal image cannot be read."),
    "seal_image_blank": Msg("印章图像中没有印迹。", "The seal image shows no seal."),
    # Supervision and statistics (docs/supervision.md#codes)
    "supervision_closed": Msg("该督办事项已办结，不能再操作。", "This supervised item is closed."),
    # Accountability (docs/accountability.md#codes)
    "accountability_case_exists": Msg(
        "该来源已有一件未结案的问责案件（见 case_id）。",
        "An undecided accountability case from this source already exists (see case_id).",
    ),
    "accountability_source_not_eligible": Msg(
        "该来源不符合问责立案条件。", "This source does not warrant an accountability case."
    ),
    "accountability_findings_required": Msg(
        "请先记录核查情况，再作出问责决定。", "Record the findings before deciding the outcome."
    ),
    "accountability_decided": Msg(
        "该问责案件已作出决定并结案，不能再操作。",
        "This accountability case is decided and closed.",
    ),
    # Exchange (docs/exchange.md#errors)
    "document_not_sealed": Msg(
        "公文尚未用印，不能分发。", "The document has not been sealed; it cannot be dispatched."
    ),
    "document_not_outgoing": Msg(
        "只有发文才能分发。", "Only outgoing documents can be dispatched."
    ),
    "document_not_final": Msg(
        "公文已退回修改、撤回或仍是草稿，不能分发其用印件。",
        "The document is a draft, returned for revision or withdrawn; "
        "its sealed copy cannot be dispatched.",
    ),
    "already_dispatched": Msg("该公文已分发过。", "This document has already been dispatched."),
    "not_dispatched": Msg("该公文尚未分发。", "This document has not been dispatched."),
    "unit_not_found": Msg("收文单位不存在。", "A recipient unit does not exist."),
    "unit_not_exchange_enabled": Msg(
        "该单位未开通公文交换或已停用。",
        "A recipient unit does not take part in the exchange or is inactive.",
    ),
    "recipient_duplicated": Msg(
        "同一单位不能既是主送又是抄送。", "A unit cannot be both a main and a copy recipient."
    ),
    "own_unit_recipient": Msg(
        "不能分发给本单位。", "A document cannot be dispatched to its own unit."
    ),
    "group_not_found": Msg("交换分组不存在。", "An exchange group does not exist."),
    "group_name_taken": Msg("已有同名的交换分组。", "An exchange group with this name exists."),
    "already_signed_for": Msg("该来文已签收。", "This document has already been signed for."),
    "receipt_not_pending": Msg(
        "该来文已退回或已撤回，不能再处理。",
        "This document was returned or recalled; it can no longer be handled.",
    ),
    "no_incoming_template": Msg(
        "本单位没有可用的收文流程，公文已登记，请稍后手动送办。",
        "The unit has no usable incoming workflow; the document is registered — submit it later.",
    ),
    # Notifications (docs/notifications.md#devices)
    "push_token_invalid": Msg(
        "推送令牌格式不正确。", "The push token is not a valid FCM registration token."
    ),
    "push_subscription_invalid": Msg(
        "Web Push 订阅格式不正确（需要 endpoint 与 keys.p256dh、keys.auth）。",
        "The Web Push subscription is not valid (endpoint, keys.p256dh and keys.auth).",
    ),
    "push_endpoint_not_allowed": Msg(
        "推送地址不被允许：须为 https 地址，且在系统允许的推送服务上。",
        "The push endpoint is not allowed: it must be an https URL on a push service "
        "this system allows.",
    ),
    "push_keys_invalid": Msg(
        "Web Push 密钥长度或编码不正确。",
        "The Web Push keys are not base64url values of the right length.",
    ),
    # Live channel and Web Push (docs/notifications.md#live-channel-sse)
    "stream_ticket_invalid": Msg(
        "实时推送票据无效、已使用或已过期，请重新获取。",
        "The stream ticket is invalid, used or expired; get a new one.",
    ),
    "stream_last_event_id_invalid": Msg(
        "Last-Event-ID 必须是通知编号（非负整数）。",
        "Last-Event-ID must be a notification id (a non-negative integer).",
    ),
    "stream_capacity": Msg(
        "实时推送连接已满，请稍后重试（期间可刷新通知列表）。",
        "Too many live streams are open; retry later (poll the list meanwhile).",
    ),
    "webpush_not_configured": Msg(
        "Web Push 尚未配置（VAPID 密钥），请联系市信息化管理员。",
        "Web Push is not configured (VAPID key); ask the city IT admin.",
    ),
    # VPN access (docs/vpn.md#error-codes)
    "vpn_config_already_fetched": Msg(
        "该设备的 VPN 配置已下载过，不能再次获取；如遗失请吊销后重新申请。",
        "This device's VPN configuration was already fetched; revoke it and request again.",
    ),
    "vpn_not_approved": Msg("该 VPN 接入申请尚未批准。", "This VPN access is not approved."),
    "vpn_not_pending": Msg(
        "该 VPN 接入申请已处理。", "This VPN access request was already decided."
    ),
    "vpn_already_revoked": Msg("该设备的 VPN 接入已吊销。", "This device's VPN access is revoked."),
    "vpn_expired": Msg("该设备的 VPN 接入已过期。", "This device's VPN access has expired."),
    "vpn_not_configured": Msg(
        "VPN 网关尚未配置（接入地址或公钥），请联系市信息化管理员。",
        "The VPN gateway is not configured (endpoint or key); ask the city IT admin.",
    ),
    "vpn_key_in_use": Msg(
        "该公钥已登记过，请在设备上重新生成密钥。",
        "This public key is already enrolled; generate a new key on the device.",
    ),
    "vpn_pool_exhausted": Msg(
        "VPN 地址池已用完，请联系市信息化管理员。",
        "The VPN address pool is exhausted; ask the city IT admin.",
    ),
    "vpn_peer_mismatch": Msg(
        "该 VPN 设备不属于当前登录用户，访问已拒绝并记录。",
        "This VPN device belongs to someone else; the request was refused and recorded.",
    ),
    "vpn_peer_unknown": Msg(
        "该 VPN 地址没有有效的设备授权。",
        "No approved device holds this VPN address.",
    ),
    "agent_credential_invalid": Msg(
        "网关代理凭据无效或已吊销。", "The gateway agent credential is invalid or revoked."
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
        message: str | Msg | None = None,
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
        super().__init__(detail=str(message or self.code), code=self.code)


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
    code: str,
    message: str | Msg | None = None,
    fields: dict | None = None,
    extra: dict | None = None,
) -> dict[str, Any]:
    """The error body; a ``Msg`` in ``message``, ``fields`` or ``extra`` is given in the
    active language (docs/api.md#languages)."""
    body: dict[str, Any] = {"code": code, "message": str(message or message_for(code))}
    if fields:
        body["fields"] = localise(fields)
    if extra:
        body.update(localise(extra))  # type: ignore[call-overload]
    return {"error": body}


def error_response(
    status_code: int, code: str, message: str | Msg | None = None, fields: dict | None = None
) -> JsonResponse:
    """A Django-level response in the envelope (for middleware and URL handlers)."""
    return JsonResponse(
        envelope(code, message, fields),
        status=status_code,
        encoder=ClientDjangoJSONEncoder,
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
