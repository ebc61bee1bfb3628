"""Reading bounce reports: RFC 3464 delivery status notifications."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser


@dataclass(frozen=True)
class BounceReport:
    recipient: str
    kind: str  # hard | soft
    status: str
    reason: str
    original_message_id: str | None


class NotADeliveryReport(ValueError):
    """The message holds no ``message/delivery-status`` part."""


#: Control characters a mail server may leave in a report's fields (NUL would not even fit
#: into PostgreSQL text): dropped, the reports are machine text, not a person's input.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return _CONTROL.sub("", str(value)).strip() if value is not None else ""


def _original_message_id(message: Message) -> str | None:
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return _field(inner, "Message-ID")
        elif content_type == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            headers = HeaderParser().parsestr(
                raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            )
            if headers.get("Message-ID"):
                return _field(headers, "Message-ID")
    return None


def parse_delivery_status(raw: bytes) -> list[BounceReport]:
    """The failed and delayed recipients of a DSN (``delivered``/``relayed`` ones are skipped)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    status_parts = [p for p in message.walk() if p.get_content_type() == "message/delivery-status"]
    if not status_parts:
        raise NotADeliveryReport("no message/delivery-status part found")
    original = _original_message_id(message)
    reports = []
    for part in status_parts:
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block holds per-message fields
            if not isinstance(block, Message):
                continue
            recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
            if ";" in recipient:
                recipient = recipient.split(";", 1)[1].strip()
            action = _field(block, "Action").lower()
            status = _field(block, "Status")
            if not recipient or action not in ("failed", "delayed"):
                continue
            kind = "hard" if action == "failed" and status.startswith("5") else "soft"
            reason = _field(block, "Diagnostic-Code") or f"{action} {status}"
            reports.append(BounceReport(recipient.strip("<>"), kind, status, reason[:500], original))
    return reports
