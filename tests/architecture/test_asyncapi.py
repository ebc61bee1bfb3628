"""Every service's AsyncAPI document is a valid AsyncAPI 3.0 document (checked against the
specification's own JSON Schema) whose references all resolve, whose channel addresses declare
their parameters and whose message schemas are valid JSON Schemas."""

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.validators import Draft7Validator, Draft202012Validator

from nzr_common.runtime import asyncapi_document

from .test_wiring import SERVICES, definition_of

SPECIFICATION = json.loads((Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json").read_text())


def document_of(service: str) -> dict[str, Any]:
    return asyncapi_document(definition_of(service))


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_document_is_valid_against_the_asyncapi_3_schema(service):
    document = document_of(service)
    errors = sorted(Draft7Validator(SPECIFICATION).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])
    assert document["operations"], f"{service} documents no operation"


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_references_resolve_and_addresses_declare_their_parameters(service):
    document = document_of(service)
    for reference in references(document):
        resolve(document, reference)
    for channel_id, channel in document["channels"].items():
        named = set(re.findall(r"{([^}]+)}", channel["address"]))
        assert named == set(channel.get("parameters", {})), channel_id
    for operation_id, operation in document["operations"].items():
        channel_ref = operation["channel"]["$ref"]
        for message in operation["messages"]:
            # An operation's messages must be the ones of its channel (AsyncAPI 3.0, 3.3.3).
            assert message["$ref"].startswith(channel_ref + "/messages/"), operation_id
    for name, message in document["components"]["messages"].items():
        payload = resolve(document, message["payload"]["$ref"])
        Draft202012Validator.check_schema(payload)
        Draft202012Validator.check_schema(message["headers"])
        assert payload["properties"]["type"]["const"] == name


def test_asyncapi_payload_describes_the_whole_cloudevents_envelope():
    document = document_of("actors")
    message = document["components"]["messages"]["nzr.actors.actor_registered.v1"]
    envelope = {"$ref": message["payload"]["$ref"], "components": document["components"]}
    valid = {
        "specversion": "1.0",
        "id": "0d7c3f1e-6a52-4a43-9c36-2f8f0b5a2a10",
        "source": "/regions/demo/actors",
        "type": "nzr.actors.actor_registered.v1",
        "subject": "a-1",
        "time": "2026-12-03T10:00:00Z",
        "datacontenttype": "application/json",
        "region": "demo",
        "data": {"actor_id": "a-1"},
    }
    errors = list(Draft202012Validator(envelope).iter_errors(valid))
    # Only the data is incomplete: the envelope attributes are right.
    assert errors and all(list(e.absolute_path)[:1] == ["data"] or e.validator == "required" for e in errors)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**valid, "type": "nzr.actors.actor_updated.v1"}, envelope)
    channel = document["channels"]["nzr.actors.actor_registered.v1"]
    assert channel["address"] == "nzr.{region}.pub.actors.actor_registered.v1"
    assert "traceparent" in message["headers"]["properties"]
