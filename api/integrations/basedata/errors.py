"""Error codes of the base data catalogue, bilingual (docs/integrations.md#base-data-errors).

Kept here rather than in api/common/errors.py's table: ``ApiError`` takes the message,
and the codes belong to this connector alone.
"""

from __future__ import annotations

from api.common.errors import ApiError
from api.common.i18n import Msg

NO_GRANT = Msg(
    "您没有该数据集的有效授权，请先提交使用申请并经数据责任单位批准。此次查询已记录。",
    "You hold no grant for this dataset: request access and have the data owner approve "
    "it first. The attempt has been recorded.",
)
GRANT_EXPIRED = Msg(
    "您对该数据集的授权已过期（或尚未生效），请重新申请。此次查询已记录。",
    "Your grant for this dataset has expired (or has not started yet); request access "
    "again. The attempt has been recorded.",
)
DATASET_RETIRED = Msg("该数据集已停用。", "This dataset has been retired by its platform.")
NOT_OWNER = Msg(
    "只有数据责任单位的系统管理员可以审批该申请。",
    "Only an admin of the dataset's owner unit may decide this request.",
)
SELF_DECISION = Msg("不能审批自己提交的申请。", "You cannot decide a request you filed yourself.")
NOT_PENDING = Msg("该申请已审批。", "This request has already been decided.")
NOT_GRANTED = Msg("该申请不是有效授权，无法收回。", "This request is not an active grant.")
REQUEST_PENDING = Msg(
    "您已有一条该数据集的待审批申请。",
    "You already have a pending request for this dataset.",
)
NO_UNIT = Msg("您的账号未归属任何单位，不能申请。", "Your account belongs to no unit.")
NOT_CONFIGURED = Msg(
    "基础数据平台接口尚未配置。", "The base-data platform connection is not configured."
)
UNAVAILABLE = Msg(
    "基础数据平台暂时无法访问，请稍后重试。",
    "The base-data platform is unavailable; try again later.",
)
UPSTREAM = Msg(
    "基础数据平台拒绝或未能处理该查询。", "The base-data platform refused or failed the query."
)


def refused(code: str, message: Msg, status: int = 403) -> ApiError:
    return ApiError(code, message, status_code=status)
