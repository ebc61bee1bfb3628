"""Use cases of the catalogue (the writer side, the state): a change is recorded in
``catalogue_entries`` and announced through the outbox under the catalogue's region token;
nothing is written to the read model here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.funding import (
    FundingProgramWithdrawn,
)
from nzr_common.errors import Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam
from nzr_funding.catalogue.models import CatalogueEntryRow
from nzr_funding.catalogue.records import _event, normalise_record, validate_records
from nzr_funding.catalogue.schemas import (
    CatalogueChange,
    ImportReport,
)


async def import_programmes(
    *,
    session: AsyncSession,
    outbox: Outbox,
    catalogue_region: str,
    records: Sequence[Any],
    all_or_nothing: bool = False,
) -> ImportReport:
    """Validate every record; record and announce the valid ones in one transaction.

    A re-imported id becomes a new revision when its content changed and is left alone when
    not. With ``all_or_nothing`` a single bad record rejects the whole import.
    """
    accepted, rejected = validate_records(records)
    if rejected and (all_or_nothing or not accepted):
        params = [(f"records[{r.index}].{p.name}", p.reason) for r in rejected for p in r.problems]
        raise Invalid(
            "Invalid programmes",
            params,
            detail=f"{len(rejected)} of {len(records)} records are invalid; nothing was imported.",
            extra={"rejected": [r.model_dump() for r in rejected]},
        )
    changes: list[CatalogueChange] = []
    async with session.begin():
        existing = (
            {
                row.id: row
                for row in (
                    await session.scalars(
                        select(CatalogueEntryRow).where(CatalogueEntryRow.id.in_([d["id"] for d in accepted]))
                    )
                ).all()
            }
            if accepted
            else {}
        )
        now = datetime.now(UTC)
        events = []
        for data in accepted:
            row = existing.get(data["id"])
            if row is not None and row.record == data and not row.withdrawn:
                changes.append(CatalogueChange(id=data["id"], revision=row.revision, outcome="unchanged"))
                continue
            if row is None:
                session.add(
                    CatalogueEntryRow(id=data["id"], revision=1, record=data, withdrawn=False, updated_at=now)
                )
                changes.append(CatalogueChange(id=data["id"], revision=1, outcome="created"))
                events.append(_event(data, 1, new=True))
            else:
                row.revision += 1
                row.record, row.withdrawn, row.updated_at = data, False, now
                changes.append(CatalogueChange(id=data["id"], revision=row.revision, outcome="updated"))
                events.append(_event(data, row.revision, new=False))
        if events:
            await outbox.add(session, *events, region=catalogue_region)
    counts = Counter(c.outcome for c in changes)
    return ImportReport(
        received=len(records),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        rejected=rejected,
        programmes=changes,
    )


async def save_programme(
    *,
    session: AsyncSession,
    outbox: Outbox,
    catalogue_region: str,
    record: Any,
    expected_id: str | None = None,
) -> CatalogueChange:
    """Create or replace one programme; a bad record is a 422 naming its fields."""
    data, problems = normalise_record(record)
    if data is not None and expected_id is not None and data["id"] != expected_id:
        problems = [InvalidParam(name="id", reason=f"does not match the path id '{expected_id}'")]
        data = None
    if data is None:
        raise Invalid("Invalid programme", [(p.name, p.reason) for p in problems])
    report = await import_programmes(
        session=session, outbox=outbox, catalogue_region=catalogue_region, records=[record]
    )
    return report.programmes[0]


async def withdraw_programme(
    *, session: AsyncSession, outbox: Outbox, catalogue_region: str, programme_id: str
) -> CatalogueChange:
    """Take a programme out of the catalogue and announce FundingProgramWithdrawn."""
    async with session.begin():
        row = await session.get(CatalogueEntryRow, programme_id)
        if row is None or row.withdrawn:
            raise NotFound("programme", f"{programme_id} in the catalogue")
        now = datetime.now(UTC)
        row.revision += 1
        row.withdrawn, row.updated_at = True, now
        await outbox.add(
            session,
            FundingProgramWithdrawn(programme_id=programme_id, withdrawn_at=now, revision=row.revision),
            region=catalogue_region,
        )
    return CatalogueChange(id=programme_id, revision=row.revision, outcome="withdrawn")
