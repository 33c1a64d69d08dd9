"""Per-person office IM over XMPP (docs/notifications.md#office-im-per-person-xmpp).

The intranet's IM server (Prosody is the reference) delivers a direct ``chat``
message to each person's JID; the recipient's desktop or phone client shows it, and
the server keeps it (offline storage) while they are not signed in. No internet is
involved. ``XmppChannel`` signs in as one service account with slixmpp, sends the
batch and signs out; ``Message.recipient`` is the person's bare JID.

* Transport: ``tls="starttls"`` (default; ``ca_file`` for the intranet's own CA),
  ``"direct"`` (XMPP over TLS, XEP-0368) or ``"none"`` (plain TCP, loopback tests
  only). ``host``/``port`` override DNS SRV lookups (intranets rarely have them).
* Outcomes: ``ok`` once the message is written to the authenticated stream (the
  server then owns it). Authentication refused → ``permanent_error``
  ``xmpp_auth_failed`` (the channel's credentials: the outbox marks it broken). No
  connection, or no session within ``timeout`` → ``transient_error``. A JID that is
  not a bare ``user@domain`` → ``permanent_error`` ``xmpp_bad_jid``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from notifications.channels.base import Message, Outcome, Result

logger = logging.getLogger(__name__)

BARE_JID = re.compile(r"^[^@/\s<>'\"&]{1,1023}@[A-Za-z0-9.-]{1,253}$")
DEAD_JID_CODES = frozenset({"xmpp_bad_jid"})


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what slixmpp left running (its filter and reconnect tasks), then close."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


class XmppChannel:
    name = "xmpp"

    def __init__(
        self,
        jid: str,
        password: str,
        *,
        host: str = "",
        port: int = 5222,
        tls: Literal["starttls", "direct", "none"] = "starttls",
        ca_file: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.jid, self.password = jid, password
        self.host, self.port = host, port
        self.tls, self.ca_file = tls, ca_file
        self.timeout = timeout

    def text_of(self, message: Message) -> str:
        if message.body and message.body != message.title:
            return f"{message.title}\n{message.body}"
        return message.title

    def send(self, messages: Sequence[Message]) -> list[Result]:
        results: list[Result | None] = [None] * len(messages)
        valid = []
        for i, message in enumerate(messages):
            if BARE_JID.match(message.recipient):
                valid.append(i)
            else:
                results[i] = Result(
                    message, Outcome.PERMANENT_ERROR, error_code="xmpp_bad_jid",
                    error_detail=message.recipient[:100],
                )  # fmt: skip
        if valid:
            outcome = self._run([messages[i] for i in valid])
            for i, result in zip(valid, outcome, strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _run(self, messages: list[Message]) -> list[Result]:
        """slixmpp is asyncio: run one session on a private loop in its own thread, so
        a caller that already has a running loop (or none) is not disturbed."""
        box: dict[str, Any] = {}

        def target() -> None:
            loop = asyncio.new_event_loop()
            try:
                box["results"] = loop.run_until_complete(self._session(messages, loop))
            except Exception as exc:  # never raise for a delivery problem
                logger.exception("XMPP session failed")
                box["error"] = exc
            finally:
                _close_loop(loop)

        thread = threading.Thread(target=target, name="xmpp-send", daemon=True)
        thread.start()
        thread.join(self.timeout * 3 + 5)
        if "results" in box:
            return box["results"]
        detail = type(box.get("error", TimeoutError())).__name__
        return [
            self._fail(m, Outcome.TRANSIENT_ERROR, "xmpp_session_failed", detail) for m in messages
        ]

    @staticmethod
    def _fail(message: Message, outcome: Outcome, code: str, detail: str = "") -> Result:
        return Result(message, outcome, error_code=code, error_detail=detail)

    async def _session(
        self, messages: list[Message], loop: asyncio.AbstractEventLoop
    ) -> list[Result]:
        import slixmpp

        client = slixmpp.ClientXMPP(self.jid, self.password, loop=loop)
        client.enable_plaintext = self.tls == "none"
        client.enable_starttls = self.tls == "starttls"
        client.enable_direct_tls = self.tls == "direct"
        client.use_aiodns = False  # the intranet's resolver, through the OS
        if self.ca_file:
            client.ca_certs = Path(self.ca_file)  # the intranet's CA, besides the system's
        ready: asyncio.Future[str] = loop.create_future()

        def settle(value: str) -> None:
            if not ready.done():
                ready.set_result(value)

        client.add_event_handler("session_start", lambda _e: settle("ok"))
        client.add_event_handler("failed_auth", lambda _e: settle("auth"))
        client.add_event_handler("connection_failed", lambda _e: settle("connect"))
        client.add_event_handler("disconnected", lambda _e: settle("connect"))
        if self.host:
            client.connect(self.host, self.port)
        else:
            client.connect()
        try:
            state = await asyncio.wait_for(ready, self.timeout)
        except TimeoutError:
            state = "timeout"
        if state != "ok":
            client.abort()
            if state == "auth":
                return [
                    self._fail(m, Outcome.PERMANENT_ERROR, "xmpp_auth_failed", self.jid)
                    for m in messages
                ]
            return [
                self._fail(m, Outcome.TRANSIENT_ERROR, f"xmpp_{state}_failed", self.host)
                for m in messages
            ]
        results = []
        for message in messages:
            stanza = client.make_message(
                mto=message.recipient, mbody=self.text_of(message), mtype="chat"
            )
            stanza["id"] = message.idempotency_key  # a client may drop a repeat by its id
            stanza.send()
            results.append(Result(message, Outcome.OK, provider_message_id=message.idempotency_key))
        # disconnect() flushes the send queue before closing the stream.
        await client.disconnect(wait=self.timeout)
        return results
