"""Service functions of the actors service: state change and its events in one transaction."""

import uuid
from datetime import UTC, datetime

from nzr_common.contracts.actors import ActorRegistered
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.regions import Region
from sqlalchemy.ext.asyncio import AsyncSession

from nzr_actors import domain
from nzr_actors.schemas import ActorCreate, ActorRead
from nzr_actors.tables import ActorRow


def _read(row: ActorRow) -> ActorRead:
    return ActorRead.model_validate(row, from_attributes=True)


async def register_actor(
    *, session: AsyncSession, outbox: Outbox, region: Region, topics: set[str], data: ActorCreate
) -> ActorRead:
    """Store a new actor and announce ActorRegistered in the same transaction."""
    problems = domain.check_actor_profile(
        district=data.district, topics=data.topics,
        region_districts=set(region.districts), known_topics=topics,
    )
    if problems:
        raise ProblemError(422, "Invalid actor", "; ".join(f"{p.name}: {p.reason}" for p in problems),
                           invalid_params=[InvalidParam(name=p.name, reason=p.reason) for p in problems])
    now = datetime.now(UTC)
    row = ActorRow(
        id=str(uuid.uuid4()), name=data.name.strip(), kind=data.kind, sector=data.sector,
        district=data.district, municipality=data.municipality, topics=data.topics,
        website=str(data.website) if data.website else None, description=data.description,
        public_profile=data.public_profile, version=1, created_at=now, updated_at=now,
    )
    async with session.begin():
        session.add(row)
        await outbox.add(session, ActorRegistered(
            actor_id=row.id, name=row.name, kind=data.kind, sector=data.sector,
            district=row.district, municipality=row.municipality, topics=row.topics,
            public_profile=row.public_profile, registered_at=now,
        ))
    return _read(row)


async def get_actor(*, session: AsyncSession, actor_id: str, include_private: bool) -> ActorRead:
    """One actor; without ``include_private`` only actors with a public profile are found."""
    row = await session.get(ActorRow, actor_id)
    if row is None or (not include_private and not row.public_profile):
        raise ProblemError(404, "Not Found", f"No actor {actor_id}.")
    return _read(row)
