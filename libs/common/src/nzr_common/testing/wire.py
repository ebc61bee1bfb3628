"""Check what is on the wire against what the services document: every message in the
JetStream streams validated against its producer's AsyncAPI document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import nats
import nats.js.errors
from jsonschema.validators import Draft202012Validator


@dataclass
class WireMessage:
    stream: str
    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes


@dataclass
class WireReport:
    """What the check saw: messages per event type, and every mismatch in words."""

    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def stream_messages(nats_url: str) -> list[WireMessage]:
    """Every message still in every stream of the server, in stream order."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        found = []
        for info in await js.streams_info():
            name, state = info.config.name or "", info.state
            for sequence in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                try:
                    raw = await js.get_msg(name, sequence)
                except nats.js.errors.NotFoundError:
                    continue  # deleted (an erasure) or gone with retention
                assert raw.subject is not None and raw.data is not None
                found.append(WireMessage(name, sequence, raw.subject, dict(raw.headers or {}), raw.data))
        return found
    finally:
        await connection.close()


def check_against_documents(messages: list[WireMessage], documents: dict[str, dict[str, Any]]) -> WireReport:
    """Validate each message (payload and headers) against the AsyncAPI document of the service
    its CloudEvents ``source`` names, and its subject against the channel address."""
    report = WireReport()
    for message in messages:
        where = f"{message.stream}#{message.sequence} ({message.subject})"
        try:
            envelope = json.loads(message.data)
            producer = envelope["source"].rsplit("/", 1)[-1]
            event_type = envelope["type"]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            report.problems.append(f"{where}: not a CloudEvents envelope ({error!r})")
            continue
        document = documents.get(producer)
        if document is None:
            report.problems.append(f"{where}: no AsyncAPI document of its producer {producer!r}")
            continue
        described = document["components"]["messages"].get(event_type)
        sends = [
            op
            for op in document["operations"].values()
            if op["action"] == "send" and op["messages"][0]["$ref"].endswith(f"/messages/{event_type}")
        ]
        if described is None or not sends:
            report.problems.append(f"{where}: {producer} does not document sending {event_type}")
            continue
        channel = document["channels"][sends[0]["channel"]["$ref"].rsplit("/", 1)[-1]]
        address = channel["address"].replace("{region}", envelope.get("region", ""))
        if address != message.subject:
            report.problems.append(f"{where}: published on {message.subject}, documented {address}")
        root = {"components": document["components"]}
        for part, schema, value in (
            ("payload", {**root, **described["payload"]}, envelope),
            ("headers", {**root, **described["headers"]}, message.headers),
        ):
            for mismatch in Draft202012Validator(schema).iter_errors(value):
                path = "/".join(str(p) for p in mismatch.absolute_path)
                report.problems.append(f"{where} {part} /{path}: {mismatch.message[:200]}")
        report.checked[event_type] = report.checked.get(event_type, 0) + 1
    return report
