"""SMS over SMPP 3.4 (smpplib) against the loopback fake SMSC, which has its own codec."""

from __future__ import annotations

import pytest

from notifications.channels.base import Message, Outcome
from notifications.channels.sms_smpp import (
    DCS_UCS2,
    SmppReceiptListener,
    SmppSmsChannel,
    decode_parts,
    split_text,
)
from notifications.fakes.smsc import running_smsc

SYSTEM_ID, PASSWORD = "govdesk", "secret12"
CHINESE_200 = "".join(
    "关于做好年底安全生产检查工作的通知请各单位按时报送材料"[i % 27] for i in range(200)
)


def channel(smsc, **options) -> SmppSmsChannel:
    options.setdefault("rate", 0)
    options.setdefault("backoff_base", 0.01)
    options.setdefault("throttle_pause", 0.01)
    return SmppSmsChannel(
        smsc.host, smsc.port, SYSTEM_ID, options.pop("password", PASSWORD),
        source_addr="10690001", **options,
    )  # fmt: skip


def msg(number: str, text: str, key: str = "") -> Message:
    return Message(recipient=number, title=text, body="", idempotency_key=key or f"k-{number}")


@pytest.fixture
def smsc():
    with running_smsc(system_id=SYSTEM_ID, password=PASSWORD) as fake:
        yield fake


def test_split_chinese_into_three_ucs2_parts_with_udh():
    coding, parts, esm = split_text(CHINESE_200, reference=7)
    assert coding == DCS_UCS2 and esm == 0x40 and len(parts) == 3
    assert [p[:6] for p in parts] == [bytes([5, 0, 3, 7, 3, n]) for n in (1, 2, 3)]
    assert all(len(p) <= 140 for p in parts)
    assert decode_parts(coding, parts) == CHINESE_200


def test_split_never_cuts_a_surrogate_pair():
    text = "𠀀" * 40  # 40 characters outside the BMP, 4 bytes each
    coding, parts, _ = split_text(text, reference=1)
    assert len(parts) == 2 and decode_parts(coding, parts) == text


def test_chinese_200_characters_arrive_as_three_parts_reassembled(smsc):
    ch = channel(smsc)
    [result] = ch.send([msg("13800000001", CHINESE_200)])
    ch.close()
    assert result.ok and len(result.provider_part_ids) == 3
    [received] = smsc.messages
    assert received["parts"] == 3 and received["data_coding"] == DCS_UCS2
    assert received["text"] == CHINESE_200
    assert received["message_ids"] == list(result.provider_part_ids)
    assert smsc.binds == ["transmitter"]


def test_ascii_goes_in_the_default_alphabet_as_one_part(smsc):
    ch = channel(smsc, sign_name="")
    [result] = ch.send([msg("13800000002", "Meeting at 3pm")])
    assert result.ok and smsc.messages[0]["text"] == "Meeting at 3pm"
    assert smsc.messages[0]["data_coding"] == 0 and smsc.messages[0]["parts"] == 1


def test_sign_name_prefixes_the_text(smsc):
    [result] = channel(smsc, sign_name="新城市政务").send([msg("13800000003", "待办：请假单")])
    assert result.ok and smsc.messages[0]["text"] == "【新城市政务】待办：请假单"


def test_drop_mid_burst_of_500_sends_every_message_exactly_once(smsc):
    ch = channel(smsc, window=20)
    smsc.drop_after(173)  # the connection dies in the middle of the burst
    messages = [msg(f"1390000{i:04d}", f"burst {i}", key=f"b{i}") for i in range(500)]
    results = ch.send(messages)
    assert all(r.ok for r in results)
    assert ch.reconnects == 1 and smsc.binds == ["transmitter", "transmitter"]
    texts = [m["text"] for m in smsc.messages]
    assert sorted(texts) == sorted(f"burst {i}" for i in range(500))  # none lost, none twice
    ids = [r.provider_message_id for r in results]
    assert len(set(ids)) == 500


def test_drop_in_the_middle_of_a_long_message_resends_only_the_missing_parts(smsc):
    ch = channel(smsc, window=3)
    smsc.drop_after(2)
    [result] = ch.send([msg("13800000004", CHINESE_200)])
    assert result.ok and len(smsc.parts) == 3  # parts 1 and 2 were not sent again
    assert [m["text"] for m in smsc.messages] == [CHINESE_200]


def test_rejected_number_is_permanent_and_not_retried(smsc):
    smsc.reject_numbers.add("13800000005")
    results = channel(smsc).send([msg("13800000005", "x"), msg("13800000006", "y")])
    assert results[0].outcome is Outcome.PERMANENT_ERROR
    assert results[0].error_code == "ESME_RINVDSTADR" and results[1].ok
    assert [m["recipient"] for m in smsc.messages] == ["13800000006"]


def test_throttling_is_retried_a_bounded_number_of_times(smsc):
    smsc.throttle_next(2)
    [ok] = channel(smsc, part_retries=3).send([msg("13800000007", "a")])
    assert ok.ok
    smsc.throttle_next(10)
    [busy] = channel(smsc, part_retries=2).send([msg("13800000008", "b")])
    assert busy.outcome is Outcome.TRANSIENT_ERROR and busy.error_code == "ESME_RTHROTTLED"
    assert busy.retry_after


def test_wrong_password_is_a_permanent_configuration_error_without_retry(smsc):
    ch = channel(smsc, password="wrong")
    [result] = ch.send([msg("13800000009", "x")])
    assert result.outcome is Outcome.PERMANENT_ERROR and result.error_code == "ESME_RINVPASWD"
    assert smsc.binds == [] and ch.reconnects == 0


def test_unreachable_smsc_is_transient_after_bounded_reconnects():
    with running_smsc() as gone:
        port = gone.port
    sleeps: list[float] = []
    ch = SmppSmsChannel(
        "127.0.0.1", port, SYSTEM_ID, PASSWORD, reconnect_attempts=3, sleep=sleeps.append
    )
    [result] = ch.send([msg("13800000010", "x")])
    assert result.outcome is Outcome.TRANSIENT_ERROR and result.error_code == "smsc_unreachable"
    assert len(sleeps) == 3  # backoff between the tries, then give up


def test_receipts_reach_a_receiver_bind_matched_by_message_id(smsc):
    smsc.expire_numbers.add("13800000012")
    results = channel(smsc).send([msg("13800000011", CHINESE_200), msg("13800000012", "z")])
    listener = SmppReceiptListener(smsc.host, smsc.port, SYSTEM_ID, PASSWORD)
    got = []
    while len(got) < 4:
        listener.poll(got.append, wait=0.5)
    listener.close()
    by_id = {r.message_id: r.state for r in got}
    assert {by_id[i] for i in results[0].provider_part_ids} == {"delivered"}
    assert by_id[results[1].provider_message_id] == "expired"
    assert "receiver" in smsc.binds


def test_transceiver_gets_its_receipts_on_the_same_session(smsc):
    got = []
    ch = channel(smsc, bind="transceiver", on_receipt=got.append)
    [first] = ch.send([msg("13800000013", "one")])
    # The receipt arrives while the session idles; the next batch reads it.
    ch.session.enquire_link_interval = 0
    while not got:
        ch.send([])
    assert got[0].message_id == first.provider_message_id and got[0].state == "delivered"


def test_receipt_the_handler_could_not_store_is_sent_again(smsc):
    [result] = channel(smsc).send([msg("13800000014", "x")])
    listener = SmppReceiptListener(smsc.host, smsc.port, SYSTEM_ID, PASSWORD)
    calls = []

    def flaky(receipt):
        calls.append(receipt.message_id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    while len(calls) < 2:
        listener.poll(flaky, wait=0.5)
    listener.close()
    assert calls == [result.provider_message_id] * 2


def test_idle_session_sends_enquire_link_before_the_next_batch(smsc):
    ch = channel(smsc, enquire_link_interval=0)
    ch.send([msg("13800000015", "a")])
    ch.send([msg("13800000016", "b")])
    assert smsc.enquire_links >= 1 and smsc.binds == ["transmitter"]
