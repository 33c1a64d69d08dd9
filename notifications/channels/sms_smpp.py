"""SMS over SMPP 3.4 to the carrier's short-message centre (docs/notifications.md#sms-over-smpp).

Government SMS platforms reach the carrier's SMSC over a private line; nothing here
needs the internet. ``SmppSmsChannel`` binds as a transmitter (or transceiver) with
smpplib, keeps the session between batches (``enquire_link`` when it has been idle),
and sends each message as one or more ``submit_sm``:

* **Encoding.** Plain ASCII goes as the SMSC default alphabet (``data_coding`` 0, 160
  characters, 153 per part); anything else (Chinese) as UCS-2 (``data_coding`` 8, 70
  characters, 67 per part). A longer text is split with a UDH concatenation header
  (IEI 0x00: reference, total, sequence; ``esm_class`` 0x40); a part never ends in the
  middle of a UTF-16 surrogate pair. The reference is derived from the idempotency key,
  so a part sent again after a reconnect joins the same message on the handset.
* **Throughput.** At most ``window`` ``submit_sm`` wait for their response at once, and
  no more than ``rate`` per second leave (the account's window and rate, agreed with the
  carrier).
* **Reconnect.** A dropped connection (or a silent one: no response within
  ``timeout``) is reconnected with exponential backoff and full jitter, at most
  ``reconnect_attempts`` times per batch; the parts whose ``submit_sm_resp`` had not
  arrived are sent again, the ones the SMSC answered never are. If the SMSC accepted a
  part and the connection died before its response came back, that part is sent twice:
  at most ``window`` parts per drop (SMPP has no idempotency key).
* **Errors.** ``ESME_RTHROTTLED`` / ``ESME_RMSGQFUL`` / system errors are transient: the
  part is retried after ``throttle_pause`` seconds, at most ``part_retries`` times, then
  the message is ``transient_error`` and the outbox retries it later. An invalid
  destination is permanent and marks the number bad (``DEAD_NUMBER_CODES``); a bind
  refused for bad credentials is a permanent configuration error and is not retried.
* **Receipts.** ``registered_delivery`` asks for an SMSC delivery receipt per part. A
  receipt (``deliver_sm`` with ``esm_class`` 0x04) names the ``message_id`` the
  ``submit_sm_resp`` gave; :class:`Receipt` is its parsed form. They arrive on a
  receiver bind (:class:`SmppReceiptListener`, run by the long-running
  ``notify_smpp_receipts`` command) or, bound as a transceiver, on this session (then
  handed to ``on_receipt``).

``Result.provider_message_id`` is the first part's message id and
``Result.provider_part_ids`` every part's, for matching the receipts.
"""

from __future__ import annotations

import logging
import random
import re
import select
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from smpplib import client as smpp_client
from smpplib import consts, exceptions, smpp

from notifications.channels.base import Message, Outcome, Result
from notifications.channels.smpp_codec import (
    DCS_DEFAULT,
    DCS_UCS2,
    RECEIPT_STATE,
    Receipt,
    decode_parts,
    parse_receipt,
    reference_for,
    split_text,
    text_of,
)

__all__ = [
    "DCS_DEFAULT",
    "DCS_UCS2",
    "DEAD_NUMBER_CODES",
    "RECEIPT_STATE",
    "Receipt",
    "SmppReceiptListener",
    "SmppSmsChannel",
    "decode_parts",
    "parse_receipt",
    "reference_for",
    "split_text",
    "status_name",
]

logger = logging.getLogger(__name__)

# Answers to submit_sm: retrying later may help.
TRANSIENT_STATUSES = frozenset(
    {
        consts.SMPP_ESME_RTHROTTLED,  # 0x58 over the account's rate
        consts.SMPP_ESME_RMSGQFUL,  # 0x14 SMSC queue full
        consts.SMPP_ESME_RSYSERR,  # 0x08
        0x45,  # ESME_RSUBMITFAIL
        0x64,  # ESME_RX_T_APPN temporary application error
    }
)
# A number the SMSC refuses: stop sending to it until it changes.
DEAD_NUMBER_CODES = frozenset({"ESME_RINVDSTADR", "ESME_RX_P_APPN"})
# A bind refused for these reasons is a configuration error (no retry).
PERMANENT_BIND_STATUSES = frozenset(
    {consts.SMPP_ESME_RINVPASWD, 0x0F, 0x53}  # password, system_id, system_type
)
_STATUS_NAMES = {
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x14: "ESME_RMSGQFUL",
    0x45: "ESME_RSUBMITFAIL",
    0x58: "ESME_RTHROTTLED",
    0x64: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
}


def status_name(status: int) -> str:
    return _STATUS_NAMES.get(status, f"ESME_0x{status:08X}")


# --- the session ----------------------------------------------------------------------------


class BindRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status_name(status))
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT_BIND_STATUSES


class _Session:
    """One bound SMPP connection (smpplib ``Client``), reconnected with backoff."""

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        bind: Literal["transmitter", "transceiver", "receiver"],
        system_type: str,
        timeout: float,
        enquire_link_interval: float,
        on_receipt: Callable[[Receipt], None] | None,
        clock: Callable[[], float],
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password, self.system_type = system_id, password, system_type
        self.bind_mode = bind
        self.timeout = timeout
        self.enquire_link_interval = enquire_link_interval
        self.on_receipt = on_receipt
        self.clock = clock
        self.client: smpp_client.Client | None = None
        self.last_io = 0.0
        self.connects = 0

    @property
    def bound(self) -> bool:
        return self.client is not None

    def open(self) -> None:
        """Connect and bind; raises ``exceptions.ConnectionError`` or ``BindRefused``."""
        self.close()
        client = smpp_client.Client(
            self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True
        )
        try:
            client.connect()
        except exceptions.ConnectionError:
            client.disconnect()  # close the socket smpplib created (it warns otherwise)
            raise
        try:
            resp = getattr(client, f"bind_{self.bind_mode}")(
                system_id=self.system_id,
                password=self.password,
                system_type=self.system_type,
                interface_version=0x34,
            )
        except exceptions.PDUError as exc:
            client.disconnect()
            status = exc.args[1] if len(exc.args) > 1 else consts.SMPP_ESME_RBINDFAIL
            raise BindRefused(int(status)) from None
        except (exceptions.ConnectionError, OSError):
            client.disconnect()
            raise exceptions.ConnectionError("bind failed") from None
        if resp is None:
            client.disconnect()
            raise exceptions.ConnectionError("no bind response")
        self.client = client
        self.connects += 1
        self.last_io = self.clock()

    def close(self, unbind: bool = False) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if unbind:
            try:
                client.send_pdu(smpp.make_pdu("unbind", client=client))
                if select.select([client._socket], [], [], min(self.timeout, 2.0))[0]:
                    client.read_pdu()
            except Exception:  # unbinding is a courtesy
                logger.debug("SMPP unbind failed", exc_info=True)
        try:
            client.state = consts.SMPP_CLIENT_STATE_OPEN  # smpplib warns about "bound" otherwise
            client.disconnect()
        except Exception:
            logger.debug("SMPP disconnect failed", exc_info=True)

    def send(self, pdu: Any) -> None:
        assert self.client is not None
        try:
            self.client.send_pdu(pdu)
        except (OSError, exceptions.ConnectionError) as exc:
            raise exceptions.ConnectionError(str(exc)) from None
        self.last_io = self.clock()

    def make(self, command: str, **kwargs: Any) -> Any:
        assert self.client is not None
        return smpp.make_pdu(command, client=self.client, **kwargs)

    def read(self, wait: float) -> Any | None:
        """The next PDU within ``wait`` seconds (None if none came). Answers the SMSC's
        ``enquire_link`` and hands receipts to ``on_receipt`` itself (then None)."""
        assert self.client is not None
        sock = self.client._socket
        try:
            ready = select.select([sock], [], [], max(0.0, wait))[0]
        except (OSError, ValueError) as exc:
            raise exceptions.ConnectionError(str(exc)) from None
        if not ready:
            return None
        try:
            pdu = self.client.read_pdu()
        except (TimeoutError, OSError, exceptions.PDUError) as exc:
            raise exceptions.ConnectionError(str(exc)) from None
        self.last_io = self.clock()
        if pdu.command == "enquire_link":
            resp = self.make("enquire_link_resp")
            resp.sequence = pdu.sequence
            self.send(resp)
            return None
        if pdu.command == "unbind":
            resp = self.make("unbind_resp")
            resp.sequence = pdu.sequence
            self.send(resp)
            raise exceptions.ConnectionError("SMSC unbound")
        if pdu.command == "deliver_sm" and self.on_receipt is not None:
            self.ack_deliver(pdu, self.on_receipt)
            return None
        return pdu

    def ack_deliver(self, pdu: Any, handle: Callable[[Receipt], None]) -> None:
        """Hand the receipt to ``handle`` first, then acknowledge it: a receipt that
        could not be stored is answered ESME_RX_T_APPN and the SMSC sends it again."""
        status = consts.SMPP_ESME_ROK
        receipt = parse_receipt(pdu)
        if receipt is not None:
            try:
                handle(receipt)
            except Exception:
                logger.exception("storing SMPP receipt %s failed", receipt.message_id)
                status = 0x64
        resp = self.make("deliver_sm_resp", status=status)
        resp.sequence = pdu.sequence
        self.send(resp)

    def keep_alive(self) -> None:
        """``enquire_link`` when the session has been idle; reconnect if it is dead."""
        if self.client is None or self.clock() - self.last_io < self.enquire_link_interval:
            return
        try:
            request = self.make("enquire_link")
            self.send(request)
            deadline = self.clock() + self.timeout
            while True:
                left = deadline - self.clock()
                if left <= 0:
                    raise exceptions.ConnectionError("enquire_link unanswered")
                pdu = self.read(left)
                if pdu is not None and pdu.command == "enquire_link_resp":
                    return
        except exceptions.ConnectionError:
            logger.info("SMPP session to %s:%s is dead; reconnecting", self.host, self.port)
            self.close()


@dataclass
class _Part:
    index: int  # of the message in the batch
    number: int
    payload: bytes
    esm_class: int
    coding: int
    message_id: str = ""
    status: int | None = None
    retries: int = 0
    not_before: float = 0.0


@dataclass
class _Outcome:
    parts: list[_Part] = field(default_factory=list)
    failure: tuple[Outcome, str, str] | None = None


class SmppSmsChannel:
    """SMS through the carrier's SMSC over SMPP 3.4. See the module docstring."""

    name = "sms"

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        *,
        source_addr: str = "",
        source_addr_ton: int = 5,  # alphanumeric/short code; 0 unknown
        source_addr_npi: int = 0,
        dest_addr_ton: int = 1,  # international
        dest_addr_npi: int = 1,  # E.164
        system_type: str = "",
        bind: Literal["transmitter", "transceiver"] = "transmitter",
        sign_name: str = "",
        window: int = 10,
        rate: float = 50.0,
        timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
        reconnect_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        throttle_pause: float = 1.0,
        part_retries: int = 3,
        registered_delivery: bool = True,
        on_receipt: Callable[[Receipt], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.source_addr = source_addr
        self.source_addr_ton, self.source_addr_npi = source_addr_ton, source_addr_npi
        self.dest_addr_ton, self.dest_addr_npi = dest_addr_ton, dest_addr_npi
        self.sign_name = sign_name
        self.window = max(1, window)
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.timeout = timeout
        self.reconnect_attempts = reconnect_attempts
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.throttle_pause = throttle_pause
        self.part_retries = part_retries
        self.registered_delivery = registered_delivery
        self.sleep, self.clock, self.rand = sleep, clock, rand
        self.session = _Session(
            host, port, system_id, password, bind, system_type, timeout,
            enquire_link_interval, on_receipt if bind == "transceiver" else None, clock,
        )  # fmt: skip
        self._next_send = 0.0
        # Counters for operators and tests: submit_sm written, reconnects made.
        self.submitted = 0
        self.reconnects = 0

    # -- public ----------------------------------------------------------------------------

    def text_of(self, message: Message) -> str:
        text = message.title
        if message.body and message.body != message.title:
            text = f"{text}\n{message.body}"
        return f"【{self.sign_name}】{text}" if self.sign_name else text

    def close(self) -> None:
        self.session.close(unbind=True)

    def send(self, messages: Sequence[Message]) -> list[Result]:
        outcomes = [_Outcome() for _ in messages]
        queue: deque[_Part] = deque()
        for index, message in enumerate(messages):
            number = message.recipient.strip()
            if not re.fullmatch(r"\+?[0-9]{3,20}", number):
                outcomes[index].failure = (Outcome.PERMANENT_ERROR, "ESME_RINVDSTADR", number)
                continue
            try:
                coding, payloads, esm = split_text(
                    self.text_of(message), reference_for(message.idempotency_key)
                )
            except ValueError as exc:
                outcomes[index].failure = (Outcome.PERMANENT_ERROR, "message_too_long", str(exc))
                continue
            for payload in payloads:
                part = _Part(index, len(outcomes[index].parts), payload, esm, coding)
                outcomes[index].parts.append(part)
                queue.append(part)
        failure = self._pump(messages, queue)
        return [
            self._result(message, outcome, failure)
            for message, outcome in zip(messages, outcomes, strict=True)
        ]

    # -- the loop --------------------------------------------------------------------------

    def _connect(self, failures: int) -> tuple[Outcome, str, str] | None:
        """Bind, with backoff between tries. None when bound, else why not."""
        attempt = 0
        while True:
            try:
                self.session.open()
                if failures or attempt:
                    self.reconnects += 1
                return None
            except BindRefused as exc:
                if exc.permanent:
                    return (Outcome.PERMANENT_ERROR, str(exc), "bind refused")
                detail = str(exc)
            except exceptions.ConnectionError as exc:
                detail = str(exc) or "connection failed"
            attempt += 1
            if failures + attempt > self.reconnect_attempts:
                return (Outcome.TRANSIENT_ERROR, "smsc_unreachable", detail)
            self.sleep(self._backoff(failures + attempt))

    def _backoff(self, n: int) -> float:
        return self.rand() * min(self.backoff_max, self.backoff_base * 2 ** max(0, n - 1))

    def _pump(self, messages: Sequence[Message], queue: deque[_Part]) -> tuple | None:
        """Send every queued part; returns a batch-wide failure (the SMSC stayed
        unreachable, or refused the bind) for the parts left unanswered, else None."""
        inflight: dict[int, _Part] = {}
        drops = 0
        self.session.keep_alive()
        while queue or inflight:
            if not self.session.bound:
                failure = self._connect(drops)
                if failure is not None:
                    return failure
            try:
                self._fill_window(messages, queue, inflight)
                self._await_responses(queue, inflight)
            except exceptions.ConnectionError as exc:
                drops += 1
                # Responses that arrived before the connection died are still in the
                # socket: read them, or those parts would be sent twice.
                self._drain(queue, inflight)
                logger.warning("SMPP connection lost (%s); %d parts unanswered", exc, len(inflight))
                self.session.close()
                # Unanswered parts go out again, in their original order, first.
                for part in sorted(
                    inflight.values(), key=lambda p: (p.index, p.number), reverse=True
                ):
                    queue.appendleft(part)
                inflight.clear()
                if drops > self.reconnect_attempts:
                    return (Outcome.TRANSIENT_ERROR, "smsc_connection_lost", str(exc))
                self.sleep(self._backoff(drops))
        return None

    def _drain(self, queue: deque[_Part], inflight: dict[int, _Part]) -> None:
        if not self.session.bound:
            return
        try:
            while inflight:
                pdu = self.session.read(0.05)
                if pdu is None:
                    return
                self._handle(pdu, queue, inflight)
        except exceptions.ConnectionError:
            return

    def _fill_window(
        self, messages: Sequence[Message], queue: deque[_Part], inflight: dict[int, _Part]
    ) -> None:
        now = self.clock()
        blocked: list[_Part] = []
        while queue and len(inflight) < self.window:
            part = queue.popleft()
            if part.not_before > now:
                blocked.append(part)
                continue
            wait = self._next_send - self.clock()
            if wait > 0:
                self.sleep(wait)  # the account's rate
            pdu = self._submit_pdu(messages[part.index], part)
            inflight[pdu.sequence] = part
            self.session.send(pdu)
            self.submitted += 1
            self._next_send = max(self._next_send, self.clock()) + self.interval
        for part in reversed(blocked):
            queue.appendleft(part)

    def _submit_pdu(self, message: Message, part: _Part) -> Any:
        return self.session.make(
            "submit_sm",
            service_type="",
            source_addr_ton=self.source_addr_ton,
            source_addr_npi=self.source_addr_npi,
            source_addr=self.source_addr,
            dest_addr_ton=self.dest_addr_ton,
            dest_addr_npi=self.dest_addr_npi,
            destination_addr=message.recipient.strip().lstrip("+"),
            esm_class=part.esm_class,
            data_coding=part.coding,
            registered_delivery=1 if self.registered_delivery else 0,
            short_message=part.payload,
        )

    def _await_responses(self, queue: deque[_Part], inflight: dict[int, _Part]) -> None:
        """Read responses until the window has room for a sendable part, or nothing is
        in flight. Silence for ``timeout`` with parts in flight counts as a dead link."""
        deadline = self.clock() + self.timeout
        while inflight:
            room = len(inflight) < self.window
            if room and self._sendable(queue):
                return
            left = deadline - self.clock()
            if left <= 0:
                raise exceptions.ConnectionError("no submit_sm_resp within the timeout")
            wait = min(left, self._until_sendable(queue)) if room and queue else left
            pdu = self.session.read(max(wait, 0.001))
            if pdu is None:
                continue
            deadline = self.clock() + self.timeout
            self._handle(pdu, queue, inflight)
        if queue and not self._sendable(queue):
            self.sleep(self._until_sendable(queue))  # only throttled parts are left

    def _sendable(self, queue: deque[_Part]) -> bool:
        now = self.clock()
        return any(p.not_before <= now for p in queue)

    def _until_sendable(self, queue: deque[_Part]) -> float:
        if not queue:
            return self.timeout
        return max(0.0, min(p.not_before for p in queue) - self.clock())

    def _handle(self, pdu: Any, queue: deque[_Part], inflight: dict[int, _Part]) -> None:
        if pdu.command == "generic_nack":
            part = inflight.pop(pdu.sequence, None)
            if part is not None:
                self._retry_or_settle(part, int(pdu.status) or consts.SMPP_ESME_RSYSERR, queue)
            return
        if pdu.command == "deliver_sm":  # a receiver we were not asked to serve: ack it
            self.session.ack_deliver(pdu, lambda receipt: None)
            return
        if pdu.command != "submit_sm_resp":
            return
        part = inflight.pop(pdu.sequence, None)
        if part is None:
            return
        status = int(pdu.status)
        if status == consts.SMPP_ESME_ROK:
            part.status = status
            part.message_id = text_of(pdu.message_id).rstrip("\x00")
        else:
            self._retry_or_settle(part, status, queue)

    def _retry_or_settle(self, part: _Part, status: int, queue: deque[_Part]) -> None:
        if status in TRANSIENT_STATUSES and part.retries < self.part_retries:
            part.retries += 1
            part.not_before = self.clock() + self.throttle_pause * part.retries
            queue.append(part)
            return
        part.status = status

    def _result(self, message: Message, outcome: _Outcome, failure: tuple | None) -> Result:
        if outcome.failure is not None:
            kind, code, detail = outcome.failure
            return Result(message, kind, error_code=code, error_detail=detail)
        statuses = [p.status for p in outcome.parts]
        if statuses and all(s == consts.SMPP_ESME_ROK for s in statuses):
            ids = tuple(p.message_id for p in outcome.parts)
            return Result(message, Outcome.OK, provider_message_id=ids[0], provider_part_ids=ids)
        bad = [s for s in statuses if s not in (None, consts.SMPP_ESME_ROK)]
        permanent = [s for s in bad if s not in TRANSIENT_STATUSES]
        if permanent:
            return Result(
                message, Outcome.PERMANENT_ERROR, error_code=status_name(permanent[0]),
                error_detail=f"submit_sm refused ({len(statuses)} parts)",
            )  # fmt: skip
        if bad:
            return Result(
                message, Outcome.TRANSIENT_ERROR, error_code=status_name(bad[0]),
                error_detail="SMSC busy", retry_after=self.throttle_pause * 4,
            )  # fmt: skip
        kind, code, detail = failure or (Outcome.TRANSIENT_ERROR, "smsc_unanswered", "")
        return Result(message, kind, error_code=code, error_detail=detail)


class SmppReceiptListener:
    """The receiver side: binds as a receiver (or transceiver) and hands each delivery
    receipt to a callback before acknowledging it. ``poll`` runs for up to ``wait``
    seconds; call it in a loop (``manage.py notify_smpp_receipts``). It reconnects with
    backoff and sends ``enquire_link`` when the session has been idle."""

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        *,
        bind: Literal["receiver", "transceiver"] = "receiver",
        system_type: str = "",
        timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.session = _Session(
            host, port, system_id, password, bind, system_type, timeout,
            enquire_link_interval, None, clock,
        )  # fmt: skip
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.clock, self.rand = clock, rand
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = ""

    def poll(self, handle: Callable[[Receipt], None], wait: float = 1.0) -> int:
        """Receive for up to ``wait`` seconds; returns how many receipts were handled.
        Never raises for a connection problem (it is retried on a later call)."""
        deadline = self.clock() + wait
        handled = 0
        while True:
            left = deadline - self.clock()
            if left <= 0:
                return handled
            if not self.session.bound:
                if self.clock() < self.retry_at:
                    time.sleep(min(left, self.retry_at - self.clock()))
                    continue
                try:
                    self.session.open()
                    self.failures = 0
                    self.last_error = ""
                except (exceptions.ConnectionError, BindRefused) as exc:
                    self.failures += 1
                    self.last_error = str(exc) or type(exc).__name__
                    delay = self.rand() * min(
                        self.backoff_max, self.backoff_base * 2 ** (self.failures - 1)
                    )
                    self.retry_at = self.clock() + max(0.05, delay)
                    continue
            try:
                self.session.keep_alive()
                if not self.session.bound:
                    continue
                pdu = self.session.read(min(left, self.session.enquire_link_interval))
                if pdu is not None and pdu.command == "deliver_sm":
                    self.session.ack_deliver(pdu, handle)
                    handled += 1
            except exceptions.ConnectionError as exc:
                self.last_error = str(exc)
                self.session.close()

    def close(self) -> None:
        self.session.close(unbind=True)
