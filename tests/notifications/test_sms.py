"""Aliyun and Tencent SMS channels against loopback fakes that check the signatures."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.channels import Message, Outcome, send_with_retry, sms_aliyun, sms_tencent
from notifications.channels.ratelimit import TokenBucket
from notifications.channels.sms_aliyun import AliyunSmsChannel
from notifications.channels.sms_tencent import TencentSmsChannel
from notifications.fakes import aliyun_sms, serve, tencent_sms

AK_ID, AK_SECRET = "LTAI5tTestKeyId", "testsecret*with spaces~"
TC_ID, TC_KEY = "AKIDtestSecretId", "tcTestSecretKey"


def msg(phone: str, **data: str) -> Message:
    return Message(
        recipient=phone, title="催办", body="", idempotency_key=f"o-{phone}",
        data=data or {"doc": "关于 A&B*C~D 的通知", "due": "11月25日"},
    )  # fmt: skip


# --- Aliyun -----------------------------------------------------------------------------


def test_aliyun_documented_example_signature():
    # Worked example from Alibaba Cloud's RPC signature documentation (DescribeRegions,
    # AccessKeySecret "testsecret"): the documented result is OLeaidS1JvxuMvnyHOwuJ+uX5qY=.
    params = {
        "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
    }  # fmt: skip
    assert sms_aliyun.sign("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def aliyun(url: str, **kw) -> AliyunSmsChannel:
    return AliyunSmsChannel(
        access_key_id=AK_ID, access_key_secret=AK_SECRET, sign_name="某市政务办公",
        template_code="SMS_465000001", endpoint=url,
        now=lambda: dt.datetime(2026, 11, 24, 21, 0, tzinfo=dt.UTC), **kw,
    )  # fmt: skip


def test_aliyun_send_is_signed_and_returns_bizid():
    with serve(aliyun_sms(AK_ID, AK_SECRET)) as fake:
        [r] = aliyun(fake.url).send([msg("13800138000")])
    assert r.ok and r.provider_message_id == "900619746936498440^0"
    q = fake.received[0].query
    assert q["Action"] == "SendSms" and q["Version"] == "2017-05-25"
    assert q["PhoneNumbers"] == "13800138000" and q["OutId"] == "o-13800138000"
    assert q["Timestamp"] == "2026-11-24T21:00:00Z" and q["SignName"] == "某市政务办公"
    assert q["TemplateParam"] == '{"doc": "关于 A&B*C~D 的通知", "due": "11月25日"}'


def test_aliyun_wrong_secret_is_rejected_by_the_fake():
    with serve(aliyun_sms(AK_ID, AK_SECRET)) as fake:
        ch = aliyun(fake.url)
        ch.access_key_secret = "other"
        [r] = ch.send([msg("13800138000")])
    assert r.outcome is Outcome.PERMANENT_ERROR and r.error_code == "SignatureDoesNotMatch"


def test_aliyun_error_codes_are_classified():
    codes = {
        "13800000001": "isv.BUSINESS_LIMIT_CONTROL",
        "13800000002": "isv.MOBILE_NUMBER_ILLEGAL",
    }
    with serve(aliyun_sms(AK_ID, AK_SECRET, code_for=codes)) as fake:
        ok, throttled, dead = aliyun(fake.url).send(
            [msg("13800000000"), msg("13800000001"), msg("13800000002")]
        )
    assert ok.ok
    assert throttled.transient and throttled.error_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert dead.permanent and dead.error_code in sms_aliyun.DEAD_NUMBER_CODES


def test_aliyun_per_number_rate_limit_never_reaches_the_provider():
    now = [0.0]
    bucket = TokenBucket(capacity=1, per_seconds=30, clock=lambda: now[0])
    with serve(aliyun_sms(AK_ID, AK_SECRET)) as fake:
        ch = aliyun(fake.url, rate_limit=bucket)
        first, second, other = ch.send([msg("13800138000"), msg("13800138000"), msg("13900139000")])
        assert first.ok and other.ok
        assert second.transient and second.error_code == "local_rate_limit"
        assert second.retry_after == pytest.approx(30.0)
        assert len(fake.received) == 2
        now[0] = 30.0
        [again] = ch.send([msg("13800138000")])
    assert again.ok and len(fake.received) == 3


# --- Tencent ----------------------------------------------------------------------------


def tencent(url: str, **kw) -> TencentSmsChannel:
    return TencentSmsChannel(
        secret_id=TC_ID, secret_key=TC_KEY, sms_sdk_app_id="1400000001", sign_name="某市政务办公",
        template_id="1234567", param_names=("doc", "due"), endpoint=url,
        clock=lambda: 1795986000.0, **kw,
    )  # fmt: skip


def test_tencent_canonical_request_shape():
    cr = sms_tencent.canonical_request("sms.tencentcloudapi.com", b"{}")
    assert cr.split("\n") == [
        "POST", "/", "", "content-type:application/json; charset=utf-8",
        "host:sms.tencentcloudapi.com", "", "content-type;host",
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    ]  # fmt: skip


def test_tencent_batch_is_signed_and_statuses_mapped_per_number():
    codes = {
        "+8613800000001": "LimitExceeded.PhoneNumberThirtySecondLimit",
        "+8613800000002": "InvalidParameterValue.IncorrectPhoneNumber",
    }
    with serve(tencent_sms(TC_ID, TC_KEY, code_for=codes)) as fake:
        ok, throttled, dead = tencent(fake.url).send(
            [msg("13800000000"), msg("13800000001"), msg("+8613800000002")]
        )
    assert len(fake.received) == 1  # same template params -> one request
    req = fake.received[0]
    assert req.headers["x-tc-action"] == "SendSms" and req.headers["x-tc-version"] == "2021-01-11"
    assert req.headers["authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential={TC_ID}/2026-11-29/sms/tc3_request, "
    )
    body = req.json()
    assert body["PhoneNumberSet"] == ["+8613800000000", "+8613800000001", "+8613800000002"]
    assert body["TemplateParamSet"] == ["关于 A&B*C~D 的通知", "11月25日"]
    assert body["SmsSdkAppId"] == "1400000001" and body["TemplateId"] == "1234567"
    assert ok.ok and ok.provider_message_id == "2028:0-+8613800000000"
    assert throttled.transient and dead.permanent
    assert dead.error_code in sms_tencent.DEAD_NUMBER_CODES


def test_tencent_different_params_split_into_requests():
    with serve(tencent_sms(TC_ID, TC_KEY)) as fake:
        results = tencent(fake.url).send([msg("13800000000", doc="A"), msg("13800000001", doc="B")])
    assert all(r.ok for r in results) and len(fake.received) == 2


def test_tencent_bad_key_is_permanent_auth_failure():
    with serve(tencent_sms(TC_ID, TC_KEY)) as fake:
        ch = tencent(fake.url)
        ch.secret_key = "wrong"
        [r] = ch.send([msg("13800000000")])
    assert r.permanent and r.error_code == "AuthFailure.SignatureFailure"


def test_tencent_request_level_throttle_retried_then_sent():
    answers = [
        (200, {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow"},
                            "RequestId": "r"}}),
    ]  # fmt: skip
    real = tencent_sms(TC_ID, TC_KEY)

    def handler(req):
        return answers.pop(0) if answers else real(req)

    sleeps: list[float] = []
    with serve(handler) as fake:
        [r] = send_with_retry(tencent(fake.url), [msg("13800000000")], sleep=sleeps.append)
    assert r.ok and r.attempts == 2 and len(fake.received) == 2 and len(sleeps) == 1


def test_tencent_server_error_is_transient():
    with serve(lambda req: (502, {"oops": 1})) as fake:
        [r] = tencent(fake.url).send([msg("13800000000")])
    assert r.transient and r.error_code == "http_502"
