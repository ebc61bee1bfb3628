"""Persons (GDPR): what the service holds about one person (Art. 15) and their erasure (Art. 17).

A person is no sub-domain of their own: they are the contact persons of actors, named by the
pseudonymous ``person_id`` of their e-mail address. The erasure deletes them here, deletes the
events about them still in the outbox, and announces ``PersonErasedV2`` so every service erases
its copies; on that announcement ``forget_published_copies`` deletes what this service published
about them from the stream.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, EmailStr
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors.actors.models import ActorRow
from nzr_actors.bootstrap import Deps, DepsDep
from nzr_actors.contacts.models import ContactRow
from nzr_actors.contacts.schemas import ContactRead
from nzr_common.auth import AdminDep
from nzr_common.contracts.actors import PersonErasedV2, person_id_for
from nzr_common.contracts.base import Envelope
from nzr_common.erasure import erase_from_messaging_tables
from nzr_common.outbox import Outbox
from nzr_common.runtime import SessionDep

router = APIRouter(prefix="/api/v1/persons", tags=["persons (GDPR)"])


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class PersonContactRecord(ContactRead):
    actor_name: str


class PersonExport(BaseModel):
    """Everything the actors service holds about one person (GDPR Art. 15)."""

    person_id: str
    email: str
    exported_at: datetime
    contacts: list[PersonContactRecord]


class PersonErasure(BaseModel):
    person_id: str
    erased_contacts: int
    erased_at: datetime


# --- use cases ---------------------------------------------------------------------------------


async def person_export(*, session: AsyncSession, email: str) -> PersonExport:
    """Everything stored about the person with this e-mail address (GDPR Art. 15)."""
    person_id = person_id_for(email)
    rows = await session.execute(
        select(ContactRow, ActorRow.name)
        .join(ActorRow, ActorRow.id == ContactRow.actor_id)
        .where(ContactRow.person_id == person_id)
        .order_by(ContactRow.created_at)
    )
    contacts = [
        PersonContactRecord(
            **ContactRead.model_validate(c, from_attributes=True).model_dump(), actor_name=name
        )
        for c, name in rows
    ]
    return PersonExport(person_id=person_id, email=email, exported_at=datetime.now(UTC), contacts=contacts)


async def erase_and_announce(*, session: AsyncSession, outbox: Outbox, email: str) -> PersonErasure:
    """Delete the person's data and the events about them still in the outbox, and announce
    PersonErasedV2 (the pseudonymous id only) so every service erases its copies."""
    person_id = person_id_for(email)
    now = datetime.now(UTC)
    async with session.begin():
        result = await session.execute(delete(ContactRow).where(ContactRow.person_id == person_id))
        await erase_from_messaging_tables(session, outbox.tables, person_id)
        await outbox.add(session, PersonErasedV2(person_id=person_id, erased_at=now))
    return PersonErasure(
        person_id=person_id, erased_contacts=cast("CursorResult[Any]", result).rowcount or 0, erased_at=now
    )


async def forget_published_copies(
    deps: Deps, session: AsyncSession, envelope: Envelope[PersonErasedV2]
) -> None:
    """On our own PersonErasedV2: delete the ContactAdded messages about the person from the
    stream (and any outbox row or dead letter that still names them)."""
    await deps.eraser.erase_person(session, region=envelope.region, person_id=envelope.data.person_id)


# --- routes ------------------------------------------------------------------------------------


@router.post("/export", response_model=PersonExport, operation_id="export_person")
async def export_person(body: PersonRequest, session: SessionDep, _: AdminDep) -> PersonExport:
    """GDPR Art. 15: everything stored about the person with this e-mail address, as JSON."""
    return await person_export(session=session, email=str(body.email))


@router.post("/erase", response_model=PersonErasure, operation_id="erase_person")
async def erase_person(body: PersonRequest, session: SessionDep, deps: DepsDep, _: AdminDep) -> PersonErasure:
    """GDPR Art. 17: erase the person here and announce PersonErased to the region's services."""
    return await erase_and_announce(session=session, outbox=deps.outbox, email=str(body.email))
