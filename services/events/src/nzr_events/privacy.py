"""A person's data across the service (GDPR): the export of their registrations (Art. 15) and
their erasure (Art. 17; registrations anonymised, counts stay)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_common.contracts.actors import person_id_for
from nzr_events.feedback.models import FeedbackRow
from nzr_events.gatherings.models import EventRow
from nzr_events.programme.models import SessionRow
from nzr_events.registrations.models import RegistrationRow
from nzr_events.registrations.rules import normalise_email
from nzr_events.registrations.schemas import PersonRegistrationRecord, PersonRegistrationsExport

ERASED_NAME = "[gelöscht]"


async def export_person(*, session: AsyncSession, email: str) -> PersonRegistrationsExport:
    """Every registration of this e-mail address with its event and consents (GDPR Art. 15)."""
    rows = (
        await session.execute(
            select(
                *RegistrationRow.__table__.c,
                EventRow.title.label("event_title"),
                EventRow.starts_at.label("event_starts_at"),
            )
            .join(EventRow, EventRow.id == RegistrationRow.event_id)
            .where(RegistrationRow.email == normalise_email(email))
            .order_by(RegistrationRow.registered_at)
        )
    ).all()
    session_ids = {sid for row in rows for sid in row.session_ids}
    titles = dict(
        (
            await session.execute(
                select(SessionRow.id, SessionRow.title).where(SessionRow.id.in_(session_ids))
            )
        ).all()
    )
    feedback = {
        row.registration_id: row
        for row in await session.scalars(
            select(FeedbackRow).where(FeedbackRow.registration_id.in_([row.id for row in rows]))
        )
    }
    records = [
        PersonRegistrationRecord(
            registration_id=row.id,
            event_id=row.event_id,
            event_title=row.event_title,
            event_starts_at=row.event_starts_at,
            status=row.status,
            name=row.name,
            email=row.email,
            actor_id=row.actor_id,
            session_titles=[titles.get(sid, sid) for sid in row.session_ids],
            accessibility_needs=row.accessibility_needs,
            data_use_consent=row.data_use_consent,
            newsletter_consent=row.newsletter_consent,
            consent_text_version=row.consent_text_version,
            registered_at=row.registered_at,
            confirmed_at=row.confirmed_at,
            cancelled_at=row.cancelled_at,
            checked_in_at=row.checked_in_at,
            language=row.language,
            feedback_rating=feedback[row.id].rating if row.id in feedback else None,
            feedback_comment=feedback[row.id].comment if row.id in feedback else None,
        )
        for row in rows
    ]
    return PersonRegistrationsExport(
        person_id=person_id_for(email), email=email, exported_at=datetime.now(UTC), registrations=records
    )


async def erase_person(*, session: AsyncSession, person_id: str) -> int:
    """Anonymise every registration of the person (by the pseudonymous id of their address);
    statuses, counts and feedback ratings stay, feedback texts go (they may name the person)."""
    candidates = await session.execute(
        select(RegistrationRow.id, RegistrationRow.email).where(RegistrationRow.anonymised_at.is_(None))
    )
    ids = [row.id for row in candidates if person_id_for(row.email) == person_id]
    if not ids:
        return 0
    rows = list(await session.scalars(select(RegistrationRow).where(RegistrationRow.id.in_(ids))))
    now = datetime.now(UTC)
    for row in rows:
        row.name = ERASED_NAME
        row.email = f"erased-{row.id}@invalid"
        row.accessibility_needs = None
        row.actor_id = None
        row.anonymised_at = now
    await session.execute(
        update(FeedbackRow).where(FeedbackRow.registration_id.in_(ids)).values(comment=None)
    )
    return len(rows)
