"""A fake carrier SMS centre speaking SMPP 3.4 on loopback (docs/notifications.md#demo-fakes).

Its own PDU codec (``struct``, not smpplib), so the client library is checked against
the protocol rather than against itself. It takes ``bind_transmitter`` /
``bind_receiver`` / ``bind_transceiver`` (checking system_id and password),
``submit_sm``, ``enquire_link``, ``unbind`` and ``deliver_sm_resp``, and:

* answers each ``submit_sm`` with a ``submit_sm_resp`` carrying a fresh message id —
  a part is *accepted* exactly when that response is written;
* reassembles concatenated parts (UDH IEI 0x00 / 0x08) and decodes UCS-2 or the
  default alphabet: ``messages`` (and the journal, service ``smsc``) hold whole SMS;
* sends a delivery receipt (``deliver_sm``, ``esm_class`` 0x04, the ``id:… stat:…``
  text plus the ``receipted_message_id`` and ``message_state`` TLVs) for every part
  that asked for one, to a receiver or transceiver bind of the same account (queued
  until one binds; sent again when the answer is not ESME_ROK), after
  ``receipt_delay`` seconds or when ``release_receipts`` is called (``hold_receipts``);
* can reject a number (``reject_numbers`` → ESME_RINVDSTADR), throttle
  (``throttle_next(n)`` → ESME_RTHROTTLED), report a number's SMS expired or
  undeliverable, and drop the connection right after the n-th accepted part
  (``drop_after(n)``), the way a carrier link fails mid-burst.
"""

from __future__ import annotations

import itertools
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from notifications.fakes.server import Journal

logger = logging.getLogger(__name__)

GENERIC_NACK = 0x80000000
BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER = 0x01, 0x02, 0x09
SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x04, 0x05, 0x06, 0x15
RESP = 0x80000000
ROK, RINVCMDID, RALYBND, RINVBNDSTS = 0x00, 0x03, 0x05, 0x04
RINVDSTADR, RBINDFAIL, RINVPASWD, RTHROTTLED = 0x0B, 0x0D, 0x0E, 0x58
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427
MESSAGE_STATE = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5}


# --- codec ----------------------------------------------------------------------------------


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ROK) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def cstr(self) -> str:
        end = self.data.index(b"\x00", self.pos)
        value = self.data[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def raw(self, n: int) -> bytes:
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value

    def tlvs(self) -> dict[int, bytes]:
        found = {}
        while self.pos + 4 <= len(self.data):
            tag, length = struct.unpack_from(">HH", self.data, self.pos)
            self.pos += 4
            found[tag] = self.raw(length)
        return found


@dataclass
class SubmitSm:
    source_addr: str
    destination_addr: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]

    @classmethod
    def parse(cls, body: bytes) -> SubmitSm:
        r = _Reader(body)
        r.cstr()  # service_type
        r.byte(), r.byte()
        source = r.cstr()
        r.byte(), r.byte()
        destination = r.cstr()
        esm_class, _protocol_id, _priority = r.byte(), r.byte(), r.byte()
        r.cstr(), r.cstr()  # schedule_delivery_time, validity_period
        registered, _replace, coding, _default_id = r.byte(), r.byte(), r.byte(), r.byte()
        text = r.raw(r.byte())
        return cls(source, destination, esm_class, registered, coding, text, r.tlvs())

    def udh(self) -> tuple[bytes, tuple[int, int, int] | None]:
        """(text without the UDH, (reference, total, sequence) of a concatenated part)."""
        if not self.esm_class & 0x40 or not self.short_message:
            return self.short_message, None
        length = self.short_message[0]
        header, text = self.short_message[1 : 1 + length], self.short_message[1 + length :]
        i = 0
        while i + 2 <= len(header):
            iei, size = header[i], header[i + 1]
            value = header[i + 2 : i + 2 + size]
            if iei == 0x00 and size == 3:
                return text, (value[0], value[1], value[2])
            if iei == 0x08 and size == 4:
                return text, ((value[0] << 8) | value[1], value[2], value[3])
            i += 2 + size
        return text, None


def decode(coding: int, payload: bytes) -> str:
    if coding == 0x08:
        return payload.decode("utf-16-be", "replace")
    return payload.decode("latin-1")


# --- the server -----------------------------------------------------------------------------


@dataclass
class _Pending:
    system_id: str
    message_id: str
    source: str
    destination: str
    stat: str
    due: float
    session: _Session | None = None  # a transceiver gets its own receipts
    tries: int = 0


@dataclass
class Part:
    system_id: str
    destination: str
    message_id: str
    coding: int
    text: bytes
    concat: tuple[int, int, int] | None


@dataclass
class _Session:
    sock: socket.socket
    smsc: FakeSmsc
    mode: str = ""
    system_id: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    sequence: Any = field(default_factory=lambda: itertools.count(1))
    awaiting: dict[int, _Pending] = field(default_factory=dict)
    closed: bool = False

    def write(self, data: bytes) -> bool:
        with self.lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                self.closed = True
                return False

    def close(self) -> None:
        with self.lock:
            self.closed = True
            with suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()

    @property
    def receives(self) -> bool:
        return self.mode in ("receiver", "transceiver") and not self.closed


class FakeSmsc:
    """See the module docstring. ``start()``/``stop()``, or ``running_smsc()``."""

    def __init__(
        self,
        system_id: str = "govdesk",
        password: str = "secret12",  # noqa: S107 - a loopback fake's demo account
        *,
        journal: Journal | None = None,
        receipt_delay: float = 0.0,
        hold_receipts: bool = False,
        reject_numbers: frozenset[str] | set[str] = frozenset(),
        expire_numbers: frozenset[str] | set[str] = frozenset(),
        undeliverable_numbers: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.system_id, self.password = system_id, password
        self.journal = journal if journal is not None else Journal()
        self.receipt_delay, self.hold_receipts = receipt_delay, hold_receipts
        self.reject_numbers = set(reject_numbers)
        self.expire_numbers = set(expire_numbers)
        self.undeliverable_numbers = set(undeliverable_numbers)
        self.lock = threading.RLock()
        self.parts: list[Part] = []
        self.messages: list[dict[str, Any]] = []
        self.binds: list[str] = []
        self.enquire_links = 0
        self.receipts_sent: list[str] = []
        self._ids = itertools.count(0x1000)
        self._segments: dict[tuple, dict[int, Part]] = {}
        self._receipts: list[_Pending] = []
        self._sessions: list[_Session] = []
        self._throttle = 0
        self._drop_after: int | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None
        self.host, self.port = "127.0.0.1", 0

    # -- controls ----------------------------------------------------------------------------

    def throttle_next(self, n: int) -> None:
        with self.lock:
            self._throttle = n

    def drop_after(self, n: int) -> None:
        """Close the submitting connection right after the n-th part accepted from now."""
        with self.lock:
            self._drop_after = n

    def release_receipts(self) -> None:
        with self.lock:
            self.hold_receipts = False
            for pending in self._receipts:
                pending.due = 0.0
        self._wake.set()

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m["recipient"] == number]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeSmsc:
        smsc = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                smsc._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        threading.Thread(target=self._receipt_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self.lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()

    # -- one connection ----------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        session = _Session(sock, self)
        with self.lock:
            self._sessions.append(session)
        try:
            while not session.closed:
                header = self._recv(sock, 16)
                if header is None:
                    return
                length, command, status, sequence = struct.unpack(">IIII", header)
                body = self._recv(sock, length - 16) if length > 16 else b""
                if body is None:
                    return
                self._dispatch(session, command, status, sequence, body)
        except (OSError, ValueError, struct.error, IndexError) as exc:
            logger.info("fake SMSC closing a session: %s", exc)
        finally:
            session.closed = True
            with self.lock:
                if session in self._sessions:
                    self._sessions.remove(session)
                # Receipts sent on this session and not answered go out again.
                for pending in session.awaiting.values():
                    pending.due = 0.0
                    self._receipts.append(pending)
                session.awaiting.clear()
            with suppress(OSError):
                sock.close()
            self._wake.set()

    @staticmethod
    def _recv(sock: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _dispatch(
        self, session: _Session, command: int, status: int, sequence: int, body: bytes
    ) -> None:
        if command in (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER):
            self._bind(session, command, sequence, body)
        elif command == ENQUIRE_LINK:
            with self.lock:
                self.enquire_links += 1
            session.write(pdu(ENQUIRE_LINK | RESP, sequence))
        elif command == UNBIND:
            session.write(pdu(UNBIND | RESP, sequence))
            session.close()
        elif command == SUBMIT_SM:
            self._submit(session, sequence, body)
        elif command == DELIVER_SM | RESP:
            with self.lock:
                pending = session.awaiting.pop(sequence, None)
                if pending is not None and status != ROK:
                    pending.due = time.monotonic() + 0.2
                    self._receipts.append(pending)
                elif pending is not None:
                    self.receipts_sent.append(pending.message_id)
            self._wake.set()
        elif command in (ENQUIRE_LINK | RESP, GENERIC_NACK):
            pass
        else:
            session.write(pdu(GENERIC_NACK, sequence, status=RINVCMDID))

    def _bind(self, session: _Session, command: int, sequence: int, body: bytes) -> None:
        r = _Reader(body)
        system_id, password = r.cstr(), r.cstr()
        if session.mode:
            session.write(pdu(command | RESP, sequence, cstr("FAKESMSC"), RALYBND))
            return
        if system_id != self.system_id:
            session.write(pdu(command | RESP, sequence, cstr("FAKESMSC"), 0x0F))
            return
        if password != self.password:
            session.write(pdu(command | RESP, sequence, cstr("FAKESMSC"), RINVPASWD))
            return
        session.mode = {
            BIND_RECEIVER: "receiver",
            BIND_TRANSMITTER: "transmitter",
            BIND_TRANSCEIVER: "transceiver",
        }[command]
        session.system_id = system_id
        with self.lock:
            self.binds.append(session.mode)
        session.write(pdu(command | RESP, sequence, cstr("FAKESMSC")))
        self._wake.set()

    def _submit(self, session: _Session, sequence: int, body: bytes) -> None:
        if session.mode not in ("transmitter", "transceiver"):
            session.write(pdu(SUBMIT_SM | RESP, sequence, b"", RINVBNDSTS))
            return
        sm = SubmitSm.parse(body)
        destination = sm.destination_addr
        with self.lock:
            if self._throttle > 0:
                self._throttle -= 1
                session.write(pdu(SUBMIT_SM | RESP, sequence, b"", RTHROTTLED))
                return
            if destination in self.reject_numbers:
                session.write(pdu(SUBMIT_SM | RESP, sequence, b"", RINVDSTADR))
                return
            message_id = f"{next(self._ids):08X}"
            # Accepted (recorded) first, then answered, under the lock: a drop right
            # after the answer can neither lose nor repeat a part. If the answer cannot
            # be written, the part stays accepted, as on a real SMSC whose response was
            # lost with the connection.
            text, concat = sm.udh()
            part = Part(session.system_id, destination, message_id, sm.data_coding, text, concat)
            self.parts.append(part)
            self._assemble(part, sm.source_addr)
            session.write(pdu(SUBMIT_SM | RESP, sequence, cstr(message_id)))
            if sm.registered_delivery & 0x01:
                self._receipts.append(
                    _Pending(
                        session.system_id, message_id, sm.source_addr, destination,
                        self._stat_for(destination),
                        time.monotonic() + self.receipt_delay,
                        session if session.mode == "transceiver" else None,
                    )
                )  # fmt: skip
                self._wake.set()
            drop = False
            if self._drop_after is not None:
                self._drop_after -= 1
                if self._drop_after <= 0:
                    self._drop_after = None
                    drop = True
        if drop:
            logger.info("fake SMSC drops the connection after part %s", message_id)
            session.close()

    def _stat_for(self, number: str) -> str:
        if number in self.expire_numbers:
            return "EXPIRED"
        if number in self.undeliverable_numbers:
            return "UNDELIV"
        return "DELIVRD"

    def _assemble(self, part: Part, source: str) -> None:
        if part.concat is None:
            self._complete([part], source)
            return
        reference, total, number = part.concat
        key = (part.system_id, part.destination, reference, total, part.coding)
        segments = self._segments.setdefault(key, {})
        if number in segments:
            logger.warning("fake SMSC: part %d of %s received twice", number, key)
        segments[number] = part
        if len(segments) == total:
            del self._segments[key]
            self._complete([segments[i] for i in sorted(segments)], source)

    def _complete(self, parts: list[Part], source: str) -> None:
        text = decode(parts[0].coding, b"".join(p.text for p in parts))
        message = {
            "recipient": parts[0].destination,
            "source": source,
            "text": text,
            "parts": len(parts),
            "data_coding": parts[0].coding,
            "message_ids": [p.message_id for p in parts],
        }
        self.messages.append(message)
        self.journal.record("smsc", **message)

    # -- receipts ----------------------------------------------------------------------------

    def _receipt_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(0.05)
            self._wake.clear()
            now = time.monotonic()
            with self.lock:
                if self.hold_receipts:
                    continue
                due = [p for p in self._receipts if p.due <= now]
                self._receipts = [p for p in self._receipts if p.due > now]
            for pending in due:
                if not self._send_receipt(pending):
                    with self.lock:
                        self._receipts.append(pending)

    def _receiver_for(self, pending: _Pending) -> _Session | None:
        if pending.session is not None and pending.session.receives:
            return pending.session
        with self.lock:
            for session in self._sessions:
                if session.receives and session.system_id == pending.system_id:
                    return session
        return None

    def _send_receipt(self, pending: _Pending) -> bool:
        session = self._receiver_for(pending)
        if session is None:
            return False
        stamp = time.strftime("%y%m%d%H%M")
        text = (
            f"id:{pending.message_id} sub:001 dlvrd:{'001' if pending.stat == 'DELIVRD' else '000'}"
            f" submit date:{stamp} done date:{stamp} stat:{pending.stat} err:000 text:"
        ).encode("latin-1")
        body = (
            cstr("")  # service_type
            + bytes([1, 1]) + cstr(pending.destination)  # the handset is the source
            + bytes([0, 0]) + cstr(pending.source)
            + bytes([0x04, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0])
            + bytes([len(text)]) + text
            + struct.pack(">HH", TLV_RECEIPTED_MESSAGE_ID, len(pending.message_id) + 1)
            + cstr(pending.message_id)
            + struct.pack(">HHB", TLV_MESSAGE_STATE, 1, MESSAGE_STATE[pending.stat])
        )  # fmt: skip
        sequence = next(session.sequence)
        with self.lock:
            session.awaiting[sequence] = pending
        pending.tries += 1
        if not session.write(pdu(DELIVER_SM, sequence, body)):
            with self.lock:
                session.awaiting.pop(sequence, None)
            return False
        return True


@contextmanager
def running_smsc(port: int = 0, **options: Any) -> Iterator[FakeSmsc]:
    smsc = FakeSmsc(**options).start(port)
    try:
        yield smsc
    finally:
        smsc.stop()
