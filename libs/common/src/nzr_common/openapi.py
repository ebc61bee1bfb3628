"""What makes the OpenAPI documents generate good clients: named enums shared across services.

Pydantic renders a ``Literal[...]`` inline, so a generated client gets one anonymous type per
place a value set is used (57 in the five documents). :func:`name_enums` hoists every inline
``enum`` into ``components/schemas`` under a stable name and refers to it with ``$ref``:

- the name of the module-level alias that declares the value set (``ActorKind``, ``Sector``,
  ``EventFormat``, … in :mod:`nzr_common.contracts` or the service's own modules), so the same
  values get the same name in every service that uses them;
- else the name in :data:`ENUM_NAMES` (value sets declared inline in several places);
- else the schema and property it sits in (``CampaignRead.status`` → ``CampaignStatus``).

One-value enums (discriminators) are left inline: they are constants, not types.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin

#: Value sets declared inline in models rather than by a named alias, by their values.
ENUM_NAMES: dict[tuple[str, ...], str] = {
    ("ok", "degraded", "unavailable"): "HealthStatus",
    ("confirmed", "waiting", "cancelled"): "RegistrationStatus",
    ("offered", "needed"): "ResourceDirection",
    ("strategisch", "operativ"): "GoalLevel",
    ("geplant", "laufend", "abgeschlossen", "ausgesetzt"): "MeasureStatus",
    ("time", "place", "session", "capacity"): "EventChange",
    ("schueler", "lehrkraefte", "erwachsene", "multiplikatoren"): "TargetGroup",
    # declared by aliases whose names only make sense inside their module
    ("bund", "land", "eu", "stiftung"): "FundingLevel",
    ("bestand", "zugang", "anteil"): "IndicatorKind",
    ("met", "not_met", "unknown"): "CriterionStatus",
    ("fits", "check", "excluded"): "ProgrammeFit",
}

#: Suffixes of request and response models dropped when an enum is named after its model.
_MODEL_SUFFIX = re.compile(r"(Read|Create|Update|Patch|In|Out|Record|Item|Request|Response)$")
_SCHEMAS = "#/components/schemas/"
#: Keywords of an inline enum that stay beside its ``$ref`` (OpenAPI 3.1 allows siblings).
_KEPT_BESIDE_REF = ("description", "default", "examples", "deprecated")


def _literal_values(value: Any) -> tuple[str, ...] | None:
    if get_origin(value) is Annotated:
        value = get_args(value)[0]
    if get_origin(value) is Literal:
        args = get_args(value)
        if len(args) > 1 and all(isinstance(arg, str) for arg in args):
            return tuple(args)
    return None


def declared_enum_names(packages: Iterable[str]) -> dict[tuple[str, ...], str]:
    """Module-level ``Literal`` aliases and ``StrEnum`` classes of the loaded modules of
    ``packages`` (and of the shared contracts), by their values; the first declaration wins."""
    names: dict[tuple[str, ...], str] = {}
    prefixes = ("nzr_common.contracts", *packages)
    for module_name in sorted(sys.modules):
        if not module_name.startswith(prefixes):
            continue
        module = sys.modules[module_name]
        for attribute, value in sorted(vars(module).items()):
            if attribute.startswith("_") or not attribute[0].isupper():
                continue
            if isinstance(value, type) and issubclass(value, Enum) and issubclass(value, str):
                values: tuple[str, ...] | None = tuple(member.value for member in value)
            else:
                values = _literal_values(value)
            if values and len(values) > 1:
                names.setdefault(values, attribute)
    return names


_SORT_VALUE = re.compile(r"-?[a-z][a-z0-9_]*")


def _is_sort(values: tuple[str, ...]) -> bool:
    """A ``sort`` value set: fields and ``-field`` (descending) for each of some of them."""
    return (
        all(_SORT_VALUE.fullmatch(value) for value in values)
        and any(value.startswith("-") for value in values)
        and all(value[1:] in values for value in values if value.startswith("-"))
    )


def _sort_varname(value: str) -> str:
    return f"{value[1:].upper()}_DESC" if value.startswith("-") else value.upper()


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def name_enums(document: dict[str, Any], packages: Iterable[str] = ()) -> dict[str, Any]:
    """Hoist every inline ``enum`` of ``document`` into a named component (in place)."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    known = {**ENUM_NAMES}
    for values, name in declared_enum_names(packages).items():
        known.setdefault(values, name)
    by_values: dict[tuple[str, ...], str] = {}
    for name, schema in schemas.items():  # enums that are components already (StrEnum classes)
        if isinstance(schema.get("enum"), list) and len(schema["enum"]) > 1:
            by_values.setdefault(tuple(schema["enum"]), name)

    def component(values: tuple[str, ...], schema: dict[str, Any], place: str) -> str:
        if values in by_values:
            return by_values[values]
        name = known.get(values) or place
        if name in schemas:  # the name of a model: keep the model, qualify the enum
            name = f"{name}Value"
        while name in schemas:
            name += "_"
        body = {"type": schema.get("type", "string"), "enum": list(values), "title": name}
        if _is_sort(values):  # generated clients name the members NAME / NAME_DESC, not VALUE_1
            body["x-enum-varnames"] = [_sort_varname(value) for value in values]
        schemas[name] = body
        by_values[values] = name
        return name

    def hoist(node: Any, place: str) -> Any:
        if isinstance(node, list):
            return [hoist(item, place) for item in node]
        if not isinstance(node, dict):
            return node
        enum = node.get("enum")
        if isinstance(enum, list) and len(enum) > 1 and all(isinstance(v, str) for v in enum):
            name = component(tuple(enum), node, place)
            kept = {
                k: v for k, v in node.items() if k in ("description", "default", "examples", "deprecated")
            }
            return {"$ref": f"{_SCHEMAS}{name}", **kept}
        return {key: hoist(value, place) for key, value in node.items()}

    for schema_name in list(schemas):
        schema = schemas[schema_name]
        if "enum" in schema:
            continue
        owner = _MODEL_SUFFIX.sub("", schema_name) or schema_name
        properties = schema.get("properties", {})
        for prop, prop_schema in list(properties.items()):
            properties[prop] = hoist(prop_schema, owner + _pascal(prop))
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            if key in schema:
                schema[key] = hoist(schema[key], _pascal(schema_name))
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            owner = _pascal(operation.get("operationId", ""))
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = hoist(parameter["schema"], owner + _pascal(parameter["name"]))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    media["schema"] = hoist(media["schema"], owner + "Body")
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = hoist(media["schema"], owner + "Answer")
    return document


def inline_enums(document: dict[str, Any]) -> list[str]:
    """JSON pointers of the inline, anonymous enums with more than one value left in ``document``."""
    found: list[str] = []
    schemas = document.get("components", {}).get("schemas", {})

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and len(enum) > 1:
                parts = pointer.split("/")
                if not (len(parts) == 4 and parts[1:3] == ["components", "schemas"] and parts[3] in schemas):
                    found.append(pointer)
            for key, value in node.items():
                walk(value, f"{pointer}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(document, "")
    return found


# ---------------------------------------------------------------------------------- examples

#: Example values by property name: realistic German data of a regional network.
FIELD_EXAMPLES: dict[str, Any] = {
    "name": "Bürgerenergie Muldental eG",
    "title": "Werkstatt Klimaanpassung im Erzgebirge",
    "description": "Kommunen, Vereine und Betriebe tauschen sich zu Hitzeschutz und Starkregenvorsorge aus.",
    "summary": "Zuschuss für Bürgerenergieprojekte in Sachsen",
    "district": "14729000",
    "municipality": "Grimma",
    "topics": ["energiewende", "klimaanpassung"],
    "topic": "energiewende",
    "email": "jana.schubert@example.org",
    "website": "https://www.buergerenergie-muldental.de",
    "venue_name": "Kulturbahnhof Grimma",
    "venue_address": "Bahnhofstraße 1, 04668 Grimma",
    "online_url": "https://meet.example.org/klimawerkstatt",
    "subject": "Neues aus dem Netzwerk Energiewende Westsachsen",
    "reason": "Die Referentin ist erkrankt; ein neuer Termin folgt.",
    "note": "Vereinbart beim Regionalforum Muldental",
    "fee_note": "Teilnahme kostenfrei",
    "accessibility": "Barrierefreier Zugang über den Seiteneingang",
    "role": "Vorstand",
    "phone": "+49 3437 123456",
    "funder": "Sächsische Aufbaubank",
    "text": "Die Kommunen im Muldental bündeln ihre Förderanträge für Bürgersolaranlagen.",
    "body": "Liebe Mitglieder, am 12. März laden wir zur Werkstatt Klimaanpassung nach Grimma ein.",
    "consent_purpose": "Einladungen zu Netzwerktreffen",
    "consent_source": "Anmeldung zum Regionalforum Muldental",
    "consent_text_version": "2026-09",
    "emails": ["jana.schubert@example.org"],
    "starts_at": "2027-03-12T09:30:00+01:00",
    "ends_at": "2027-03-12T12:30:00+01:00",
    "token": "eyJwdXJwb3NlIjoibWFuYWdlIn0.c2lnbmF0dXJl",
}
#: An id in examples (``*_id``, ``*_ids``, the two actors of a cooperation).
_EXAMPLE_ID = "3f6c2a7e-9b1d-4c58-a0e2-5d7f8b9c1e24"
_FORMAT_EXAMPLES: dict[str, Any] = {
    "date-time": "2027-03-12T09:30:00+01:00",
    "date": "2027-03-12",
    "email": "jana.schubert@example.org",
    "uri": "https://www.buergerenergie-muldental.de",
    "uuid": "3f6c2a7e-9b1d-4c58-a0e2-5d7f8b9c1e24",  # the same as _EXAMPLE_ID
}


def example_of(schema: dict[str, Any], schemas: dict[str, Any], field: str = "", depth: int = 0) -> Any:
    """An example value for ``schema``: by property name, else by format, enum, default or type."""
    if "$ref" in schema:
        target = schemas.get(schema["$ref"].removeprefix(_SCHEMAS), {})
        return example_of(
            {**target, **{k: v for k, v in schema.items() if k != "$ref"}}, schemas, field, depth
        )
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_of(options[0], schemas, field, depth)
    if field in FIELD_EXAMPLES and schema.get("type") != "boolean":
        return FIELD_EXAMPLES[field]
    if field.endswith("_id") or field in ("actor_a", "actor_b"):
        return _EXAMPLE_ID
    if field.endswith("_ids"):
        return [_EXAMPLE_ID]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") not in (None, [], {}):
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        properties = schema.get("properties", {})
        chosen = [n for n in properties if n in required or (depth == 0 and n in FIELD_EXAMPLES)]
        # a body of optional fields only (a partial update) shows all of them
        return {name: example_of(properties[name], schemas, name, depth + 1) for name in chosen or properties}
    if kind == "array":
        return [example_of(schema.get("items", {}), schemas, field, depth + 1)]
    if kind == "boolean":
        return True
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 0) or 5000)
    if schema.get("format") in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[schema["format"]]
    return "Netzwerk Zukunft Regional"


def add_request_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Give every JSON request body without one an example (in place), built by
    :func:`example_of` from its schema; examples a model declares itself are kept."""
    schemas = document.get("components", {}).get("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                if media_type.endswith("json") and "schema" in media and "example" not in media:
                    if not media.get("examples"):
                        media["example"] = example_of(media["schema"], schemas)
    return document
