"""Use cases of actors: register, read, change and remove, each with its events in one transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from nzr_actors.actors import rules
from nzr_actors.actors.models import ActorResourceRow, ActorRow, ActorTopicRow
from nzr_actors.actors.reader import ActorReader
from nzr_actors.actors.schemas import ActorCreate, ActorRead, ActorUpdate, ActorVocabulary, Label, ResourceIn
from nzr_actors.actors.search import duplicate_candidates
from nzr_actors.cooperations.models import CooperationRow
from nzr_common.contracts.actors import (
    ActorRegistered,
    ActorRemoved,
    ActorUpdated,
    CooperationEnded,
    ResourceOffered,
    ResourceSummary,
)
from nzr_common.contracts.base import IntegrationEvent
from nzr_common.errors import Conflict, Invalid, NotFound
from nzr_common.outbox import Outbox
from nzr_common.reference import vocabulary as labels
from nzr_common.regions import Region


def _actor_read(row: ActorRow) -> ActorRead:
    return ActorRead.model_validate(row, from_attributes=True)


def _resources(items: list[ResourceIn]) -> list[dict[str, Any]]:
    return [{"id": str(uuid.uuid4()), **item.model_dump()} for item in items]


def actor_profile(row: ActorRow) -> dict[str, Any]:
    return dict(
        actor_id=row.id,
        name=row.name,
        kind=row.kind,
        sector=row.sector,
        legal_form=row.legal_form,
        district=row.district,
        municipality=row.municipality,
        subdistrict=row.subdistrict,
        topics=list(row.topics),
        public_profile=row.public_profile,
        resources=[ResourceSummary(kind=r["kind"], direction=r["direction"]) for r in row.resources],
    )


def resource_events(row: ActorRow, resources: list[dict[str, Any]]) -> list[IntegrationEvent]:
    return [
        ResourceOffered(
            actor_id=row.id,
            resource_id=r["id"],
            kind=r["kind"],
            direction=r["direction"],
            description=r["description"],
            amount=r["amount"],
        )
        for r in resources
    ]


def _derive(row: ActorRow) -> None:
    """Recompute the keys and the search document from the row's fields."""
    row.name_key = rules.name_key(row.name)
    row.place_key = rules.place_key(row.municipality, row.district)
    row.website_key = rules.website_key(row.website)
    row.search_text = rules.actor_search_document(
        name=row.name, description=row.description, topics=row.topics, municipality=row.municipality
    )


def new_actor(data: ActorCreate, now: datetime) -> tuple[ActorRow, list[object], list[IntegrationEvent]]:
    """A new actor row, its topic/resource index rows and the events announcing it."""
    row = ActorRow(
        id=str(uuid.uuid4()),
        external_id=data.external_id,
        name=data.name.strip(),
        kind=data.kind,
        sector=data.sector,
        legal_form=data.legal_form,
        district=data.district,
        municipality=data.municipality,
        subdistrict=data.subdistrict,
        topics=list(data.topics),
        resources=_resources(data.resources),
        website=str(data.website) if data.website else None,
        description=data.description,
        public_profile=data.public_profile,
        created_at=now,
        updated_at=now,
    )
    _derive(row)
    index_rows: list[object] = [ActorTopicRow(topic=t, actor_id=row.id) for t in row.topics]
    index_rows += [
        ActorResourceRow(id=r["id"], actor_id=row.id, kind=r["kind"], direction=r["direction"])
        for r in row.resources
    ]
    events: list[IntegrationEvent] = [ActorRegistered(**actor_profile(row), registered_at=now)]
    return row, index_rows, events + resource_events(row, row.resources)


def _check_profile(
    *, region: Region, topics: set[str], district: str | None, actor_topics: list[str] | None
) -> None:
    problems = rules.check_actor_profile(
        district=district, topics=actor_topics, region_districts=set(region.districts), known_topics=topics
    )
    if problems:
        raise Invalid("Invalid actor", problems)


def _check_subdistrict(
    subdistricts: dict[str, list[str]], *, municipality: str | None, subdistrict: str | None
) -> None:
    if problem := rules.subdistrict_problem(subdistricts, municipality=municipality, subdistrict=subdistrict):
        raise Invalid("Invalid actor", [problem])


def _check_version(row: ActorRow, if_match: str | None, *, required: bool) -> None:
    versions = rules.parse_if_match(if_match)
    if versions is None:
        return
    if not versions:
        if required:
            raise rules.PreconditionRequired(
                "Send If-Match with the ETag you read, so no change is overwritten."
            )
        return
    if row.version not in versions:
        raise rules.PreconditionFailed(
            f"The actor changed since you read it (now version {row.version}).", version=row.version
        )


async def register_actor(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    data: ActorCreate,
    confirm_duplicates: bool = False,
    subdistricts: dict[str, list[str]] | None = None,
) -> ActorRead:
    """Store a new actor and announce ActorRegistered in the same transaction."""
    _check_profile(region=region, topics=topics, district=data.district, actor_topics=data.topics)
    _check_subdistrict(subdistricts or {}, municipality=data.municipality, subdistrict=data.subdistrict)
    async with session.begin():
        if data.external_id and await session.scalar(
            select(ActorRow.id).where(ActorRow.external_id == data.external_id)
        ):
            raise Conflict(
                f"An actor with external_id {data.external_id} exists.",
                problems=[("external_id", "already used")],
            )
        if not confirm_duplicates:
            candidates = await duplicate_candidates(
                session,
                name=data.name,
                municipality=data.municipality,
                district=data.district,
                website=str(data.website) if data.website else None,
            )
            if candidates:
                raise Conflict(
                    "Similar actors exist; repeat the request with ?confirm_duplicates=true to create it.",
                    title="Likely duplicate",
                    kind="/problems/likely-duplicate",
                    extra={"duplicates": [c.model_dump() for c in candidates]},
                )
        row, index_rows, events = new_actor(data, datetime.now(UTC))
        session.add(row)
        await session.flush()
        session.add_all(index_rows)
        await outbox.add(session, *events)
    return _actor_read(row)


async def get_actor(*, reader: ActorReader, actor_id: str, include_private: bool) -> tuple[int, bytes]:
    """One actor as (version, JSON document); without ``include_private`` only public profiles."""
    found = await reader.actor(actor_id)
    if found is None or (not include_private and not found.public_profile):
        raise NotFound("actor", actor_id)
    return found.version, found.document


async def update_actor(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    actor_id: str,
    data: ActorUpdate,
    if_match: str | None,
    subdistricts: dict[str, list[str]] | None = None,
) -> ActorRead:
    """Change the fields sent, if the caller read the current version; announce ActorUpdated."""
    changes = data.model_dump(exclude_unset=True)
    _check_profile(
        region=region, topics=topics, district=changes.get("district"), actor_topics=changes.get("topics")
    )
    try:
        async with session.begin():
            row = await session.get(ActorRow, actor_id)
            if row is None:
                raise NotFound("actor", actor_id)
            _check_version(row, if_match, required=True)
            new_resources = write_changes(row, data)
            if {"municipality", "subdistrict"} & data.model_fields_set:
                _check_subdistrict(
                    subdistricts or {}, municipality=row.municipality, subdistrict=row.subdistrict
                )
            row.updated_at = datetime.now(UTC)
            await reindex(session, row, data)
            await session.flush()
            await outbox.add(
                session,
                ActorUpdated(**actor_profile(row), updated_at=row.updated_at, version=row.version),
                *resource_events(row, new_resources),
            )
    except StaleDataError as error:
        raise rules.PreconditionFailed("The actor was changed concurrently.") from error
    return _actor_read(row)


def write_changes(row: ActorRow, data: ActorUpdate) -> list[dict[str, Any]]:
    """Set the fields sent on the row and recompute its keys; returns the resources that are new."""
    new_resources: list[dict[str, Any]] = []
    for name, value in data.model_dump(exclude_unset=True).items():
        if name == "resources":
            new_resources = _replace_resources(row, data.resources or [])
        elif name == "website":
            row.website = str(data.website) if data.website else None
        elif name == "topics":
            row.topics = list(value)
        else:
            setattr(row, name, value.strip() if name == "name" else value)
    _derive(row)
    return new_resources


async def reindex(session: AsyncSession, row: ActorRow, data: ActorUpdate) -> None:
    """Rewrite the topic and resource index rows of the fields sent."""
    if "topics" in data.model_fields_set:
        await session.execute(delete(ActorTopicRow).where(ActorTopicRow.actor_id == row.id))
        session.add_all([ActorTopicRow(topic=t, actor_id=row.id) for t in row.topics])
    if "resources" in data.model_fields_set:
        await session.execute(delete(ActorResourceRow).where(ActorResourceRow.actor_id == row.id))
        session.add_all(
            [
                ActorResourceRow(id=r["id"], actor_id=row.id, kind=r["kind"], direction=r["direction"])
                for r in row.resources
            ]
        )


def _replace_resources(row: ActorRow, items: list[ResourceIn]) -> list[dict[str, Any]]:
    """Replace the actor's resources, keeping ids of unchanged ones; returns the new ones."""
    old = {
        (r["kind"], r["direction"], r["description"], r["amount"], r["capacity"]): r for r in row.resources
    }
    kept, added = [], []
    for item in items:
        key = (item.kind, item.direction, item.description, item.amount, item.capacity)
        if key in old:
            kept.append(old.pop(key))
        else:
            added.append({"id": str(uuid.uuid4()), **item.model_dump()})
    row.resources = kept + added
    return added


async def remove_actor(*, session: AsyncSession, outbox: Outbox, actor_id: str, if_match: str | None) -> None:
    """Delete an actor with its contacts and cooperations; announce ActorRemoved."""
    now = datetime.now(UTC)
    async with session.begin():
        row = await session.get(ActorRow, actor_id)
        if row is None:
            raise NotFound("actor", actor_id)
        _check_version(row, if_match, required=False)
        active = await session.scalars(
            select(CooperationRow.id).where(
                or_(CooperationRow.actor_a == actor_id, CooperationRow.actor_b == actor_id),
                or_(CooperationRow.until.is_(None), CooperationRow.until > now.date()),
            )
        )
        events: list[IntegrationEvent] = [
            CooperationEnded(cooperation_id=c, until=now.date()) for c in active
        ]
        # actor_b has no foreign key (it may be another region's actor): delete these here.
        await session.execute(delete(CooperationRow).where(CooperationRow.actor_b == actor_id))
        await session.delete(row)
        await outbox.add(session, *events, ActorRemoved(actor_id=actor_id, removed_at=now))


def actor_vocabulary(*, region: Region, topics: tuple[str, ...]) -> ActorVocabulary:
    """The codes of kinds, sectors, legal forms, resources, topics and districts with German labels."""

    def listed(codes: dict[str, str]) -> list[Label]:
        return [Label(code=code, label=label) for code, label in codes.items()]

    return ActorVocabulary(
        kinds=listed(labels.KIND_LABELS),
        sectors=listed(labels.SECTOR_LABELS),
        legal_forms=listed(labels.LEGAL_FORM_LABELS),
        resource_kinds=listed(labels.RESOURCE_LABELS),
        topics=[Label(code=t, label=labels.TOPIC_LABELS.get(t, t)) for t in topics],
        districts=[Label(code=d.ags, label=d.name) for d in region.districts.values()],
    )
