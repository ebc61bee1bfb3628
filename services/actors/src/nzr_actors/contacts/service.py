"""Use cases of contact persons: add (with consent), list, remove."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, UnaryExpression, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors.actors.models import ActorRow
from nzr_actors.contacts.models import ContactRow
from nzr_actors.contacts.schemas import ContactCreate, ContactRead, ContactSort
from nzr_common.contracts.actors import ContactAdded, person_id_for
from nzr_common.errors import NotFound
from nzr_common.outbox import Outbox


def _contact_read(row: ContactRow) -> ContactRead:
    return ContactRead.model_validate(row, from_attributes=True)


async def add_contact(
    *, session: AsyncSession, outbox: Outbox, actor_id: str, data: ContactCreate
) -> ContactRead:
    """Record a contact person with their consent; announce ContactAdded region-privately."""
    now = datetime.now(UTC)
    email = str(data.email)
    async with session.begin():
        if await session.get(ActorRow, actor_id) is None:
            raise NotFound("actor", actor_id)
        row = ContactRow(
            id=str(uuid.uuid4()),
            person_id=person_id_for(email),
            actor_id=actor_id,
            name=data.name.strip(),
            email=email,
            role=data.role,
            consent_purpose=data.consent_purpose,
            consent_at=data.consent_at,
            consent_source=data.consent_source,
            created_at=now,
        )
        session.add(row)
        await outbox.add(
            session,
            ContactAdded(
                person_id=row.person_id,
                actor_id=actor_id,
                name=row.name,
                email=email,
                role=row.role,
                consent_purpose=row.consent_purpose,
                consent_at=row.consent_at,
                consent_source=row.consent_source,
            ),
        )
    return _contact_read(row)


_CONTACT_ORDER: dict[str, UnaryExpression[Any]] = {
    "name": ContactRow.name.asc(),
    "-name": ContactRow.name.desc(),
    "email": ContactRow.email.asc(),
    "-email": ContactRow.email.desc(),
    "created_at": ContactRow.created_at.asc(),
    "-created_at": ContactRow.created_at.desc(),
}


async def list_contacts(
    *,
    session: AsyncSession,
    actor_id: str,
    sort: ContactSort = "name",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ContactRead], int]:
    """A page of the contact persons of an actor in the order asked for (ties by id), and their
    number."""
    if await session.get(ActorRow, actor_id) is None:
        raise NotFound("actor", actor_id)
    where = ContactRow.actor_id == actor_id
    total = await session.scalar(select(func.count()).select_from(ContactRow).where(where)) or 0
    rows = await session.scalars(
        select(ContactRow)
        .where(where)
        .order_by(_CONTACT_ORDER[sort], ContactRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [_contact_read(r) for r in rows], total


async def remove_contact(*, session: AsyncSession, actor_id: str, contact_id: str) -> None:
    """Remove one contact person from an actor (the person stays elsewhere)."""
    async with session.begin():
        result = await session.execute(
            delete(ContactRow).where(ContactRow.id == contact_id, ContactRow.actor_id == actor_id)
        )
        if not cast("CursorResult[Any]", result).rowcount:
            raise NotFound("contact", contact_id)
