"""SMPP 3.4 text and receipts: how a text becomes short messages, and how a delivery
receipt reads (docs/notifications.md#sms-over-smpp). No I/O; used by
``sms_smpp`` (the channel and the receipt listener).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

UDHI = 0x40  # esm_class: the short message starts with a user data header
RECEIPT_ESM = 0x04  # esm_class of a deliver_sm that is an SMSC delivery receipt
DCS_DEFAULT = 0x00
DCS_UCS2 = 0x08


# --- text → parts ---------------------------------------------------------------------------


def _is_default_alphabet(text: str) -> bool:
    return all(32 <= ord(c) < 127 or c in "\n\r" for c in text)


def _utf16_units(text: str) -> list[bytes]:
    """One entry per character: its UTF-16-BE bytes (2, or 4 for a surrogate pair)."""
    return [c.encode("utf-16-be") for c in text]


def split_text(text: str, reference: int) -> tuple[int, list[bytes], int]:
    """``(data_coding, short_messages, esm_class)`` for ``text``; several parts carry a
    6-byte UDH (00 03 ref total seq) and ``esm_class`` 0x40."""
    if _is_default_alphabet(text):
        coding, units, single, per_part = DCS_DEFAULT, [c.encode("ascii") for c in text], 160, 153
    else:
        coding, units, single, per_part = DCS_UCS2, _utf16_units(text), 140, 134
    if sum(map(len, units)) <= single:
        return coding, [b"".join(units)], 0
    chunks: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > per_part:
            chunks.append(current)
            current = b""
        current += unit
    if current:
        chunks.append(current)
    if len(chunks) > 255:
        raise ValueError("message too long for concatenated SMS")
    total = len(chunks)
    parts = [bytes([5, 0, 3, reference, total, i + 1]) + chunk for i, chunk in enumerate(chunks)]
    return coding, parts, UDHI


def decode_parts(coding: int, payloads: Sequence[bytes]) -> str:
    """Text of a message's parts (UDH stripped): the inverse of ``split_text``."""
    out = b"".join(p[p[0] + 1 :] if len(payloads) > 1 else p for p in payloads)
    return out.decode("utf-16-be") if coding == DCS_UCS2 else out.decode("latin-1")


def reference_for(key: str) -> int:
    return hashlib.sha256(key.encode()).digest()[0]


# --- receipts -------------------------------------------------------------------------------

_RECEIPT_FIELDS = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.I)
# SMPP 3.4 message_state TLV values.
_MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
RECEIPT_STATE = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "UNDELIV": "failed",
    "REJECTD": "failed",
    "DELETED": "failed",
    "UNKNOWN": "failed",
}


@dataclass(frozen=True)
class Receipt:
    """One SMSC delivery receipt. ``state`` is ``delivered``, ``failed``, ``expired``
    or ``""`` for an intermediate one (``ENROUTE`` / ``ACCEPTD``)."""

    message_id: str
    stat: str
    state: str
    error: str = ""
    recipient: str = ""


def text_of(value: Any) -> str:
    """A PDU field as text (smpplib gives bytes)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def parse_receipt(pdu: Any) -> Receipt | None:
    """The receipt in a ``deliver_sm`` PDU, or None if it is a mobile-originated SMS."""
    if not (int(getattr(pdu, "esm_class", 0) or 0) & RECEIPT_ESM):
        return None
    body = text_of(getattr(pdu, "short_message", b""))
    found = {k.lower(): v for k, v in _RECEIPT_FIELDS.findall(body)}
    message_id = text_of(getattr(pdu, "receipted_message_id", None)) or found.get("id", "")
    state_tlv = getattr(pdu, "message_state", None)
    stat = _MESSAGE_STATES.get(int(state_tlv)) if state_tlv else None
    stat = (stat or found.get("stat", "")).upper()
    if not message_id:
        return None
    return Receipt(
        message_id=message_id.rstrip("\x00"),
        stat=stat,
        state=RECEIPT_STATE.get(stat, ""),
        error=found.get("err", ""),
        recipient=text_of(getattr(pdu, "source_addr", "")),
    )
