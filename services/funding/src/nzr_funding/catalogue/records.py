"""Incoming catalogue records: validation of one record (its catalogue form or the fields at
fault), the event announcing it, and the rows of a CSV import."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from nzr_common.contracts.funding import (
    FundingProgramPublished,
    FundingProgramUpdated,
)
from nzr_common.errors import DomainError, Invalid
from nzr_common.problems import InvalidParam
from nzr_funding.catalogue import rules
from nzr_funding.catalogue.schemas import (
    ProgrammeRecord,
    RejectedRecord,
)
from nzr_funding.catalogue.taxonomy import district_names, taxonomy_keys
from nzr_funding.deadlines import rules as deadline_rules


def _problem_params(error: ValidationError) -> list[InvalidParam]:
    return [
        InvalidParam(name=".".join(str(p) for p in e["loc"]) or "record", reason=e["msg"])
        for e in error.errors()
    ]


def normalise_record(raw: Any) -> tuple[dict[str, Any] | None, list[InvalidParam]]:
    """Validate one record; returns its catalogue form or the problems naming each field."""
    if not isinstance(raw, Mapping):
        return None, [InvalidParam(name="record", reason="expected an object")]
    try:
        record = ProgrammeRecord.model_validate(raw)
    except ValidationError as error:
        return None, _problem_params(error)
    problems: list[InvalidParam] = []
    try:
        deadline = deadline_rules.deadline_from_data(record.deadline)
    except deadline_rules.DeadlineError as error:
        problems.append(InvalidParam(name=error.field, reason=error.reason))
        deadline = None
    coverage = rules.derive_coverage(record.region, district_names())
    territories = record.territories if record.territories is not None else list(coverage.territories)
    districts = record.districts if record.districts is not None else list(coverage.districts)
    exhaustive = coverage.districts_exhaustive if record.districts is None else True
    legal_forms = (
        record.legal_forms
        if record.legal_forms is not None
        else list(rules.derive_legal_forms(record.summary, record.notes))
    )
    problems += [
        InvalidParam(name=p.field, reason=p.reason)
        for p in rules.check_programme(
            funding_types=record.funding_types,
            areas=record.areas,
            eligible=record.eligible,
            topics=record.topics,
            territories=territories,
            districts=districts,
            amount_min=record.amount_min_eur,
            amount_max=record.amount_max_eur,
            rate=record.funding_rate_percent,
            legal_forms=legal_forms,
            taxonomy=taxonomy_keys(),
            known_districts=district_names(),
        )
    ]
    if problems or deadline is None:
        return None, problems
    data = record.model_dump(mode="json")
    data.update(
        deadline=deadline.to_data(),
        territories=territories,
        districts=districts,
        districts_exhaustive=exhaustive,
        legal_forms=legal_forms,
    )
    return data, []


def validate_records(records: Sequence[Any]) -> tuple[list[dict[str, Any]], list[RejectedRecord]]:
    """The catalogue forms of the valid records and the rejected ones with their problems (an id
    given twice is rejected the second time)."""
    accepted: list[dict[str, Any]] = []
    rejected: list[RejectedRecord] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        data, problems = normalise_record(raw)
        raw_id = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
        if data is not None and data["id"] in seen:
            problems = [InvalidParam(name="id", reason=f"'{data['id']}' appears more than once")]
            data = None
        if data is None:
            rejected.append(RejectedRecord(index=index, id=raw_id, problems=problems))
            continue
        seen.add(data["id"])
        accepted.append(data)
    return accepted, rejected


def _event(record: dict[str, Any], revision: int, *, new: bool) -> FundingProgramPublished:
    event_class = FundingProgramPublished if new else FundingProgramUpdated
    fields = {k: v for k, v in record.items() if k != "id"}
    return event_class(programme_id=record["id"], revision=revision, **fields)


CSV_LIST_COLUMNS = (
    "legal_forms",
    "funding_types",
    "areas",
    "eligible",
    "topics",
    "additional_sources",
    "territories",
    "districts",
)
CSV_NUMBER_COLUMNS = ("amount_min_eur", "amount_max_eur", "funding_rate_percent")
CSV_REQUIRED = ("id", "name", "funder", "level", "region")


def records_from_csv(content: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV import (UTF-8, comma or semicolon, lists separated by '|').

    A file that is not UTF-8 or lacks required columns or has unknown ones is refused as a
    whole (400/422 naming the column); cell problems are reported per record later.
    """
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError(  # no field-level class for it: a 400, as before
            f"The file is not UTF-8 (byte {error.start}).",
            title="Unreadable CSV",
            problems=[("file", "not UTF-8 encoded")],
        ) from error
    delimiter = ";" if decoded.split("\n", 1)[0].count(";") > decoded.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(decoded), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    allowed = set(ProgrammeRecord.model_fields)
    problems = [
        InvalidParam(name=c, reason="required column is missing") for c in CSV_REQUIRED if c not in columns
    ]
    problems += [
        InvalidParam(name=c or "(empty)", reason="unknown column") for c in columns if c not in allowed
    ]
    if problems:
        raise Invalid("Wrong CSV columns", [(p.name, p.reason) for p in problems])
    records = []
    for row in reader:
        record: dict[str, Any] = {}
        for column, value in row.items():
            if column is None:
                record["(extra cells)"] = value
                continue
            column = column.strip()
            value = (value or "").strip()
            if column in CSV_LIST_COLUMNS:
                if value or column not in ("territories", "districts"):
                    record[column] = [v.strip() for v in value.split("|") if v.strip()]
            elif value == "":
                continue
            elif column in CSV_NUMBER_COLUMNS:
                try:
                    record[column] = float(value.replace(",", "."))
                except ValueError:
                    record[column] = value  # the record validation names the field
            else:
                record[column] = value
        records.append(record)
    return records
