"""Per-person IM over XMPP: slixmpp through Debian's Prosody, started natively on loopback."""

from __future__ import annotations

import pytest

from notifications.channels.base import Message, Outcome
from notifications.channels.xmpp import XmppChannel
from tests.notifications.prosody import prosody_server, recipient

USERS = {"govdesk": "svc-pass-1", "leader1": "leader-pass-1"}


@pytest.fixture(scope="module")
def prosody(tmp_path_factory):
    with prosody_server(tmp_path_factory.mktemp("prosody"), USERS) as server:
        yield server


def channel(server, password: str = USERS["govdesk"]) -> XmppChannel:
    return XmppChannel(
        server.jid("govdesk"), password, host=server.host, port=server.port,
        tls="starttls", ca_file=server.ca_file, timeout=10,
    )  # fmt: skip


def test_a_person_receives_the_chat_message(prosody):
    with recipient(prosody, "leader1", USERS["leader1"]) as inbox:
        [result] = channel(prosody).send(
            [
                Message(
                    prosody.jid("leader1"),
                    "待办：关于年终考核的通知",
                    "请于周五前审批",
                    "govdesk-delivery-7",
                )
            ]
        )
        assert result.ok
        [got] = inbox.wait_for(1)
    assert got["from"] == prosody.jid("govdesk")
    assert got["body"] == "待办：关于年终考核的通知\n请于周五前审批"
    assert got["id"] == "govdesk-delivery-7"


def test_offline_person_gets_it_when_they_sign_in(prosody):
    [result] = channel(prosody).send([Message(prosody.jid("leader1"), "催办：请审批", "", "k-2")])
    assert result.ok
    with recipient(prosody, "leader1", USERS["leader1"]) as inbox:
        bodies = [m["body"] for m in inbox.wait_for(1)]
    assert "催办：请审批" in bodies


def test_wrong_password_is_permanent(prosody):
    [result] = channel(prosody, password="nope").send(
        [Message(prosody.jid("leader1"), "x", "", "k-3")]
    )
    assert result.outcome is Outcome.PERMANENT_ERROR and result.error_code == "xmpp_auth_failed"


def test_bad_jid_is_permanent_without_connecting():
    ch = XmppChannel("svc@nowhere.test", "x", host="127.0.0.1", port=1, tls="none", timeout=2)
    [result] = ch.send([Message("not a jid", "x", "", "k-4")])
    assert result.outcome is Outcome.PERMANENT_ERROR and result.error_code == "xmpp_bad_jid"


def test_unreachable_server_is_transient():
    ch = XmppChannel("svc@nowhere.test", "x", host="127.0.0.1", port=1, tls="none", timeout=3)
    [result] = ch.send([Message("a@nowhere.test", "x", "", "k-5")])
    assert result.outcome is Outcome.TRANSIENT_ERROR
