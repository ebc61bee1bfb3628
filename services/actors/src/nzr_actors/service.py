"""Service functions of the actors service: state change and its events in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pydantic import ValidationError
from sqlalchemy import Float, String, and_, delete, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from nzr_actors import domain, network
from nzr_actors.reads import COLUMNS as READ_COLUMNS
from nzr_actors.reads import ActorReader
from nzr_actors.schemas import (
    ActorCreate,
    ActorPage,
    ActorRead,
    ActorSort,
    ActorUpdate,
    ContactCreate,
    ContactRead,
    CooperationCreate,
    CooperationPage,
    CooperationRead,
    DuplicateCandidate,
    DuplicateReport,
    ImportReport,
    ImportRowError,
    NetworkMetrics,
    PersonContactRecord,
    PersonErasure,
    PersonExport,
    RankedActor,
    ResourceIn,
    Suggestion,
    SuggestionList,
)
from nzr_actors.tables import (
    ActorResourceRow,
    ActorRow,
    ActorTopicRow,
    ContactRow,
    CooperationRow,
)
from nzr_common.contracts.actors import (
    ActorRegistered,
    ActorRemoved,
    ActorUpdated,
    ContactAdded,
    CooperationEnded,
    CooperationRecorded,
    PersonErased,
    ResourceOffered,
    ResourceSummary,
)
from nzr_common.contracts.base import IntegrationEvent
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.regions import Region
from nzr_common.text import tokens

# --- helpers ---------------------------------------------------------------------------------


def _invalid(title: str, problems: Sequence[domain.InvalidField], status: int = 422) -> ProblemError:
    return ProblemError(
        status,
        title,
        "; ".join(f"{p.name}: {p.reason}" for p in problems),
        invalid_params=[InvalidParam(name=p.name, reason=p.reason) for p in problems],
    )


def _not_found(what: str, ident: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"No {what} {ident}.")


def _actor_read(row: ActorRow) -> ActorRead:
    return ActorRead.model_validate(row, from_attributes=True)


def _resources(items: list[ResourceIn]) -> list[dict]:
    return [{"id": str(uuid.uuid4()), **item.model_dump()} for item in items]


def _profile(row: ActorRow) -> dict:
    return dict(
        actor_id=row.id,
        name=row.name,
        kind=row.kind,
        sector=row.sector,
        district=row.district,
        municipality=row.municipality,
        topics=list(row.topics),
        public_profile=row.public_profile,
        resources=[ResourceSummary(kind=r["kind"], direction=r["direction"]) for r in row.resources],
    )


def _resource_events(row: ActorRow, resources: list[dict]) -> list[IntegrationEvent]:
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
    row.name_key = domain.name_key(row.name)
    row.place_key = domain.place_key(row.municipality, row.district)
    row.website_key = domain.website_key(row.website)
    row.search_text = domain.actor_search_document(
        name=row.name, description=row.description, topics=row.topics, municipality=row.municipality
    )


def _new_actor(data: ActorCreate, now: datetime) -> tuple[ActorRow, list[object], list[IntegrationEvent]]:
    """A new actor row, its topic/resource index rows and the events announcing it."""
    row = ActorRow(
        id=str(uuid.uuid4()),
        external_id=data.external_id,
        name=data.name.strip(),
        kind=data.kind,
        sector=data.sector,
        district=data.district,
        municipality=data.municipality,
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
    events: list[IntegrationEvent] = [ActorRegistered(**_profile(row), registered_at=now)]
    return row, index_rows, events + _resource_events(row, row.resources)


def _check_profile(
    *, region: Region, topics: set[str], district: str | None, actor_topics: list[str] | None
) -> None:
    problems = domain.check_actor_profile(
        district=district, topics=actor_topics, region_districts=set(region.districts), known_topics=topics
    )
    if problems:
        raise _invalid("Invalid actor", problems)


def _check_version(row: ActorRow, if_match: str | None, *, required: bool) -> None:
    versions = domain.parse_if_match(if_match)
    if versions is None:
        return
    if not versions:
        if required:
            raise ProblemError(
                428,
                "Precondition Required",
                "Send If-Match with the ETag you read, so no change is overwritten.",
            )
        return
    if row.version not in versions:
        raise ProblemError(
            412,
            "Precondition Failed",
            f"The actor changed since you read it (now version {row.version}).",
            headers={"ETag": domain.etag(row.version)},
        )


# --- actors ----------------------------------------------------------------------------------


async def register_actor(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    data: ActorCreate,
    confirm_duplicates: bool = False,
) -> ActorRead:
    """Store a new actor and announce ActorRegistered in the same transaction."""
    _check_profile(region=region, topics=topics, district=data.district, actor_topics=data.topics)
    async with session.begin():
        if data.external_id and await session.scalar(
            select(ActorRow.id).where(ActorRow.external_id == data.external_id)
        ):
            raise ProblemError(
                409,
                "Conflict",
                f"An actor with external_id {data.external_id} exists.",
                invalid_params=[InvalidParam(name="external_id", reason="already used")],
            )
        if not confirm_duplicates:
            candidates = await _duplicate_candidates(
                session,
                name=data.name,
                municipality=data.municipality,
                district=data.district,
                website=str(data.website) if data.website else None,
            )
            if candidates:
                raise ProblemError(
                    409,
                    "Likely duplicate",
                    "Similar actors exist; repeat the request with ?confirm_duplicates=true to create it.",
                    type_="/problems/likely-duplicate",
                    extra={"duplicates": [c.model_dump() for c in candidates]},
                )
        row, index_rows, events = _new_actor(data, datetime.now(UTC))
        session.add(row)
        await session.flush()
        session.add_all(index_rows)
        await outbox.add(session, *events)
    return _actor_read(row)


async def get_actor(*, reader: ActorReader, actor_id: str, include_private: bool) -> tuple[int, bytes]:
    """One actor as (version, JSON document); without ``include_private`` only public profiles."""
    found = await reader.actor(actor_id)
    if found is None or (not include_private and not found["public_profile"]):
        raise _not_found("actor", actor_id)
    return found["version"], ActorRead.model_validate(found).model_dump_json().encode()


async def update_actor(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    actor_id: str,
    data: ActorUpdate,
    if_match: str | None,
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
                raise _not_found("actor", actor_id)
            _check_version(row, if_match, required=True)
            new_resources: list[dict] = []
            for name, value in changes.items():
                if name == "resources":
                    new_resources = _replace_resources(row, data.resources or [])
                elif name == "website":
                    row.website = str(data.website) if data.website else None
                elif name == "topics":
                    row.topics = list(value)
                else:
                    setattr(row, name, value.strip() if name == "name" else value)
            _derive(row)
            if "topics" in changes:
                await session.execute(delete(ActorTopicRow).where(ActorTopicRow.actor_id == row.id))
                session.add_all([ActorTopicRow(topic=t, actor_id=row.id) for t in row.topics])
            if "resources" in changes:
                await session.execute(delete(ActorResourceRow).where(ActorResourceRow.actor_id == row.id))
                session.add_all(
                    [
                        ActorResourceRow(
                            id=r["id"], actor_id=row.id, kind=r["kind"], direction=r["direction"]
                        )
                        for r in row.resources
                    ]
                )
            row.updated_at = datetime.now(UTC)
            await session.flush()
            await outbox.add(
                session,
                ActorUpdated(**_profile(row), updated_at=row.updated_at, version=row.version),
                *_resource_events(row, new_resources),
            )
    except StaleDataError as error:
        raise ProblemError(412, "Precondition Failed", "The actor was changed concurrently.") from error
    return _actor_read(row)


def _replace_resources(row: ActorRow, items: list[ResourceIn]) -> list[dict]:
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
            raise _not_found("actor", actor_id)
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
        await session.delete(row)
        await outbox.add(session, *events, ActorRemoved(actor_id=actor_id, removed_at=now))


# --- search and duplicates -------------------------------------------------------------------


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _text_match(session: AsyncSession, terms: list[str]):  # type: ignore[no-untyped-def]
    """(where clause, relevance expression) for stems that must all occur."""
    if _dialect(session) == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), ActorRow.search_text)
        query = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(terms))
        return vector.op("@@")(query), func.ts_rank(vector, query)
    hits = (
        text("SELECT actor_id, -bm25(actors_fts) AS score FROM actors_fts WHERE actors_fts MATCH :match")
        .bindparams(match=" ".join(f'"{t}"' for t in terms))
        .columns(actor_id=String, score=Float)
        .subquery("fts")
    )
    return ActorRow.id.in_(select(hits.c.actor_id)), (
        select(hits.c.score).where(hits.c.actor_id == ActorRow.id).scalar_subquery()
    )


async def search_actors(
    *,
    session: AsyncSession,
    q: str | None,
    kinds: list[str],
    sectors: list[str],
    districts: list[str],
    topics: list[str],
    offers: list[str],
    needs: list[str],
    public_only: bool,
    sort: ActorSort | None,
    page: int,
    page_size: int,
) -> ActorPage:
    """German full-text search with filters, sorting and a total count."""
    where = []
    relevance = None
    terms = tokens(q) if q else []
    if terms:
        match, relevance = _text_match(session, terms)
        where.append(match)
    elif q and q.strip():
        where.append(literal_column("1") == 0)  # only stop words: nothing can match
    if public_only:
        where.append(ActorRow.public_profile.is_(True))
    for column, values in (
        (ActorRow.kind, kinds),
        (ActorRow.sector, sectors),
        (ActorRow.district, districts),
    ):
        if values:
            where.append(column.in_(values))
    if topics:
        where.append(ActorRow.id.in_(select(ActorTopicRow.actor_id).where(ActorTopicRow.topic.in_(topics))))
    for direction, kinds_wanted in (("offered", offers), ("needed", needs)):
        if kinds_wanted:
            where.append(
                ActorRow.id.in_(
                    select(ActorResourceRow.actor_id).where(
                        ActorResourceRow.kind.in_(kinds_wanted), ActorResourceRow.direction == direction
                    )
                )
            )
    sort = sort or ("relevance" if relevance is not None else "name")
    order = {
        "name": [ActorRow.name_key.asc()],
        "-name": [ActorRow.name_key.desc()],
        "created_at": [ActorRow.created_at.asc()],
        "-created_at": [ActorRow.created_at.desc()],
        "updated_at": [ActorRow.updated_at.asc()],
        "-updated_at": [ActorRow.updated_at.desc()],
        "relevance": [relevance.desc(), ActorRow.name_key.asc()]
        if relevance is not None
        else [ActorRow.name_key.asc()],
    }[sort]
    columns = [ActorRow.__table__.c[c] for c in READ_COLUMNS]
    # The total rides along as a window count: one statement for the page and its total.
    rows = (
        (
            await session.execute(
                select(*columns, func.count().over().label("total"))
                .where(*where)
                .order_by(*order, ActorRow.id)
                .limit(page_size)
                .offset((page - 1) * page_size)
            )
        )
        .mappings()
        .all()
    )
    if rows:
        total = rows[0]["total"]
    else:
        total = await session.scalar(select(func.count()).select_from(ActorRow).where(*where)) or 0
    items = [ActorRead.model_validate(dict(r)) for r in rows]
    return ActorPage(items=items, total=total, page=page, page_size=page_size)


async def _duplicate_candidates(
    session: AsyncSession,
    *,
    name: str,
    municipality: str | None,
    district: str,
    website: str | None,
    exclude_id: str | None = None,
) -> list[DuplicateCandidate]:
    key = domain.name_key(name)
    place = domain.place_key(municipality, district)
    site = domain.website_key(website)
    found: dict[str, DuplicateCandidate] = {}
    if site:
        rows = await session.execute(
            select(ActorRow.id, ActorRow.name, ActorRow.municipality, ActorRow.website)
            .where(ActorRow.website_key == site)
            .limit(20)
        )
        for r in rows:
            found[r.id] = DuplicateCandidate(
                id=r.id,
                name=r.name,
                municipality=r.municipality,
                website=r.website,
                reason="same_website",
                similarity=1.0,
            )
    rows = await session.execute(select(ActorRow.id, ActorRow.name_key).where(ActorRow.place_key == place))
    similar = []
    for r in rows:
        if r.id not in found:
            score = domain.name_similarity(key, r.name_key, floor=domain.DUPLICATE_NAME_THRESHOLD)
            if score >= domain.DUPLICATE_NAME_THRESHOLD:
                similar.append((score, r.id))
    similar.sort(reverse=True)
    if similar:
        details = {
            r.id: r
            for r in await session.execute(
                select(ActorRow.id, ActorRow.name, ActorRow.municipality, ActorRow.website).where(
                    ActorRow.id.in_([i for _, i in similar[:20]])
                )
            )
        }
        for score, actor_id in similar[:20]:
            d = details[actor_id]
            found[actor_id] = DuplicateCandidate(
                id=d.id,
                name=d.name,
                municipality=d.municipality,
                website=d.website,
                reason="similar_name",
                similarity=round(score, 3),
            )
    found.pop(exclude_id or "", None)
    return sorted(found.values(), key=lambda c: -c.similarity)


async def find_duplicates(
    *,
    session: AsyncSession,
    name: str,
    municipality: str | None,
    district: str,
    website: str | None,
    exclude_id: str | None = None,
) -> DuplicateReport:
    """Actors that are likely the same organisation: similar name in the same place, or same website."""
    return DuplicateReport(
        candidates=await _duplicate_candidates(
            session,
            name=name,
            municipality=municipality,
            district=district,
            website=website,
            exclude_id=exclude_id,
        )
    )


async def duplicates_of_actor(*, session: AsyncSession, actor_id: str) -> DuplicateReport:
    """Likely duplicates of a stored actor."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        raise _not_found("actor", actor_id)
    return await find_duplicates(
        session=session,
        name=row.name,
        municipality=row.municipality,
        district=row.district,
        website=row.website,
        exclude_id=row.id,
    )


# --- contact persons and GDPR ----------------------------------------------------------------


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
            raise _not_found("actor", actor_id)
        row = ContactRow(
            id=str(uuid.uuid4()),
            person_id=domain.person_id_for(email),
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


async def list_contacts(*, session: AsyncSession, actor_id: str) -> list[ContactRead]:
    """The contact persons of an actor."""
    if await session.get(ActorRow, actor_id) is None:
        raise _not_found("actor", actor_id)
    rows = await session.scalars(
        select(ContactRow).where(ContactRow.actor_id == actor_id).order_by(ContactRow.name, ContactRow.id)
    )
    return [_contact_read(r) for r in rows]


async def remove_contact(*, session: AsyncSession, actor_id: str, contact_id: str) -> None:
    """Remove one contact person from an actor (the person stays elsewhere)."""
    async with session.begin():
        result = await session.execute(
            delete(ContactRow).where(ContactRow.id == contact_id, ContactRow.actor_id == actor_id)
        )
        if not result.rowcount:
            raise _not_found("contact", contact_id)


async def export_person(*, session: AsyncSession, email: str) -> PersonExport:
    """Everything stored about the person with this e-mail address (GDPR Art. 15)."""
    person_id = domain.person_id_for(email)
    rows = await session.execute(
        select(ContactRow, ActorRow.name)
        .join(ActorRow, ActorRow.id == ContactRow.actor_id)
        .where(ContactRow.person_id == person_id)
        .order_by(ContactRow.created_at)
    )
    contacts = [PersonContactRecord(**_contact_read(c).model_dump(), actor_name=name) for c, name in rows]
    return PersonExport(person_id=person_id, email=email, exported_at=datetime.now(UTC), contacts=contacts)


async def erase_person(*, session: AsyncSession, outbox: Outbox, email: str) -> PersonErasure:
    """Delete the person's data and announce PersonErased so every service erases its copies."""
    person_id = domain.person_id_for(email)
    now = datetime.now(UTC)
    async with session.begin():
        result = await session.execute(delete(ContactRow).where(ContactRow.person_id == person_id))
        await outbox.add(session, PersonErased(person_id=person_id, email=email, erased_at=now))
    return PersonErasure(person_id=person_id, erased_contacts=result.rowcount or 0, erased_at=now)


# --- cooperations ----------------------------------------------------------------------------


def _cooperation_read(row: CooperationRow, sectors: dict[str, str]) -> CooperationRead:
    return CooperationRead(
        id=row.id,
        actor_a=row.actor_a,
        actor_b=row.actor_b,
        type=row.type,
        topic=row.topic,
        description=row.description,
        since=row.since,
        until=row.until,
        origin=row.origin,
        origin_id=row.origin_id,
        created_at=row.created_at,
        cross_sector=sectors.get(row.actor_a) != sectors.get(row.actor_b),
    )


async def _sectors(session: AsyncSession, actor_ids: set[str]) -> dict[str, str]:
    if not actor_ids:
        return {}
    rows = await session.execute(select(ActorRow.id, ActorRow.sector).where(ActorRow.id.in_(actor_ids)))
    return {r.id: r.sector for r in rows}


async def record_cooperation(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    data: CooperationCreate,
) -> CooperationRead:
    """Record a manual cooperation between two actors of the region; announce CooperationRecorded."""
    problems = []
    if data.actor_a == data.actor_b:
        problems.append(domain.InvalidField("actor_b", "an actor cannot cooperate with itself"))
    if data.actor_b_region not in (None, region.id):
        problems.append(
            domain.InvalidField(
                "actor_b_region",
                f"actor_b belongs to region {data.actor_b_region}; cooperations across "
                "regions need both regions' authorisation, which this region's token cannot give",
            )
        )
    if data.topic is not None and data.topic not in topics:
        problems.append(domain.InvalidField("topic", f"unknown topic: {data.topic}"))
    if data.until is not None and data.until < data.since:
        problems.append(domain.InvalidField("until", "until is before since"))
    if problems:
        raise _invalid("Invalid cooperation", problems)
    now = datetime.now(UTC)
    async with session.begin():
        sectors = await _sectors(session, {data.actor_a, data.actor_b})
        missing = [
            domain.InvalidField(f, f"no actor {getattr(data, f)} in this region")
            for f in ("actor_a", "actor_b")
            if getattr(data, f) not in sectors
        ]
        if missing:
            raise _invalid("Invalid cooperation", missing)
        a, b = domain.cooperation_pair(data.actor_a, data.actor_b)
        row = CooperationRow(
            id=str(uuid.uuid4()),
            actor_a=a,
            actor_b=b,
            type=data.type,
            topic=data.topic,
            description=data.description,
            since=data.since,
            until=data.until,
            origin="manual",
            origin_id=None,
            created_at=now,
        )
        session.add(row)
        result = _cooperation_read(row, sectors)
        events: list[IntegrationEvent] = [
            CooperationRecorded(
                cooperation_id=row.id,
                actor_a=a,
                actor_b=b,
                cooperation_type=row.type,
                since=row.since,
                cross_sector=result.cross_sector,
            )
        ]
        if row.until is not None:
            events.append(CooperationEnded(cooperation_id=row.id, until=row.until))
        await outbox.add(session, *events)
    return result


async def record_agreement_cooperations(
    *,
    session: AsyncSession,
    outbox: Outbox,
    agreement_id: str,
    party_ids: list[str],
    since: date,
) -> int:
    """Turn an agreement's parties into cooperations (one per pair, once per agreement).

    Runs inside the consumer's transaction. Parties that are no actors here (removed, or of
    another region) are left out. Returns how many cooperations were new.
    """
    pairs = domain.agreement_pairs(party_ids)
    if not pairs:
        return 0
    sectors = await _sectors(session, set(party_ids))
    known = await session.execute(
        select(CooperationRow.actor_a, CooperationRow.actor_b).where(CooperationRow.origin_id == agreement_id)
    )
    done = {(r.actor_a, r.actor_b) for r in known}
    now = datetime.now(UTC)
    events = []
    for a, b in pairs:
        if (a, b) in done or a not in sectors or b not in sectors:
            continue
        row = CooperationRow(
            id=str(uuid.uuid4()),
            actor_a=a,
            actor_b=b,
            type="vereinbarung",
            topic=None,
            description=None,
            since=since,
            until=None,
            origin="agreement",
            origin_id=agreement_id,
            created_at=now,
        )
        session.add(row)
        events.append(
            CooperationRecorded(
                cooperation_id=row.id,
                actor_a=a,
                actor_b=b,
                cooperation_type=row.type,
                since=since,
                cross_sector=sectors[a] != sectors[b],
                origin_agreement_id=agreement_id,
            )
        )
    if events:
        await outbox.add(session, *events)
    return len(events)


async def end_cooperation(
    *, session: AsyncSession, outbox: Outbox, cooperation_id: str, until: date
) -> CooperationRead:
    """Set the end date of a cooperation; announce CooperationEnded."""
    async with session.begin():
        row = await session.get(CooperationRow, cooperation_id)
        if row is None:
            raise _not_found("cooperation", cooperation_id)
        if until < row.since:
            raise _invalid("Invalid end", [domain.InvalidField("until", "until is before since")])
        row.until = until
        await outbox.add(session, CooperationEnded(cooperation_id=row.id, until=until))
        sectors = await _sectors(session, {row.actor_a, row.actor_b})
    return _cooperation_read(row, sectors)


async def get_cooperation(*, session: AsyncSession, cooperation_id: str) -> CooperationRead:
    """One cooperation."""
    row = await session.get(CooperationRow, cooperation_id)
    if row is None:
        raise _not_found("cooperation", cooperation_id)
    return _cooperation_read(row, await _sectors(session, {row.actor_a, row.actor_b}))


async def list_cooperations(
    *,
    session: AsyncSession,
    actor_id: str | None,
    type_: str | None,
    active_on: date | None,
    page: int,
    page_size: int,
) -> CooperationPage:
    """Cooperations, optionally of one actor, of one type, or active on a date."""
    where = []
    if actor_id:
        where.append(or_(CooperationRow.actor_a == actor_id, CooperationRow.actor_b == actor_id))
    if type_:
        where.append(CooperationRow.type == type_)
    if active_on:
        where.append(
            and_(
                CooperationRow.since <= active_on,
                or_(CooperationRow.until.is_(None), CooperationRow.until >= active_on),
            )
        )
    total = await session.scalar(select(func.count()).select_from(CooperationRow).where(*where)) or 0
    rows = list(
        await session.scalars(
            select(CooperationRow)
            .where(*where)
            .order_by(CooperationRow.since.desc(), CooperationRow.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    sectors = await _sectors(session, {r.actor_a for r in rows} | {r.actor_b for r in rows})
    return CooperationPage(
        items=[_cooperation_read(r, sectors) for r in rows], total=total, page=page, page_size=page_size
    )


# --- network analysis ------------------------------------------------------------------------


async def _load_network(
    session: AsyncSession, *, district: str | None
) -> tuple[list[network.Node], list[network.Edge]]:
    query = select(
        ActorRow.id,
        ActorRow.name,
        ActorRow.kind,
        ActorRow.sector,
        ActorRow.district,
        ActorRow.topics,
        ActorRow.resources,
    )
    if district:
        query = query.where(ActorRow.district == district)
    nodes = [
        network.Node(
            id=r.id,
            name=r.name,
            kind=r.kind,
            sector=r.sector,
            district=r.district,
            topics=tuple(r.topics),
            offers=frozenset(x["kind"] for x in r.resources if x["direction"] == "offered"),
            needs=frozenset(x["kind"] for x in r.resources if x["direction"] == "needed"),
        )
        for r in await session.execute(query)
    ]
    edge_query = select(
        CooperationRow.id,
        CooperationRow.actor_a,
        CooperationRow.actor_b,
        CooperationRow.type,
        CooperationRow.since,
        CooperationRow.until,
        CooperationRow.topic,
    )
    if district:
        in_district = select(ActorRow.id).where(ActorRow.district == district)
        edge_query = edge_query.where(
            CooperationRow.actor_a.in_(in_district), CooperationRow.actor_b.in_(in_district)
        )
    rows = await session.execute(edge_query)
    edges = [
        network.Edge(
            id=r.id,
            actor_a=r.actor_a,
            actor_b=r.actor_b,
            type=r.type,
            since=r.since,
            until=r.until,
            topic=r.topic,
        )
        for r in rows
    ]
    return nodes, edges


def _ranked(items: list[network.Ranked]) -> list[RankedActor]:
    return [RankedActor(actor_id=i.actor_id, name=i.name, value=i.value) for i in items]


async def network_metrics(
    *, session: AsyncSession, district: str | None, on: date | None, top_n: int
) -> NetworkMetrics:
    """Density, components, centralities, isolated actors and cross-sector share of the region."""
    on = on or date.today()
    nodes, edges = await _load_network(session, district=district)
    result = network.metrics(network.build_graph(nodes, edges, on=on), top_n=top_n)
    return NetworkMetrics(
        actors=result.actors,
        cooperations=result.cooperations,
        density=result.density,
        components=result.components,
        largest_component=result.largest_component,
        component_sizes=result.component_sizes,
        isolated_count=len(result.isolated),
        isolated=_ranked(result.isolated[:top_n]),
        degree_centrality=_ranked(result.degree_centrality),
        betweenness_centrality=_ranked(result.betweenness_centrality),
        betweenness_exact=result.betweenness_exact,
        cross_sector_share=result.cross_sector_share,
        on=on,
    )


async def network_suggestions(
    *, session: AsyncSession, actor_id: str | None, district: str | None, limit: int, surprising_only: bool
) -> SuggestionList:
    """Actors (or pairs of the region) that never cooperated, ranked by the documented score."""
    nodes, edges = await _load_network(session, district=district)
    graph = network.build_graph(nodes, edges, on=date.today())
    if actor_id is not None and actor_id not in graph:
        raise _not_found("actor", actor_id)
    past = {domain.cooperation_pair(e.actor_a, e.actor_b) for e in edges}
    ranked = network.suggestions(
        graph, actor_id=actor_id, past_pairs=past, limit=limit, surprising_only=surprising_only
    )
    names = {n.id: n.name for n in nodes}
    items = [
        Suggestion(
            actor_id=s.actor_id,
            actor_name=names[s.actor_id],
            partner_id=s.partner_id,
            partner_name=names[s.partner_id],
            score=s.score,
            parts=s.parts,
            shared_topics=s.shared_topics,
            resource_matches=s.resource_matches,
            surprising=s.surprising,
            reasons=s.reasons,
        )
        for s in ranked
    ]
    return SuggestionList(items=items, scoring=" ".join((network.__doc__ or "").split()))


EXPORTS = {
    "graphml": (network.to_graphml, "application/graphml+xml", "graphml"),
    "gexf": (network.to_gexf, "application/gexf+xml", "gexf"),
    "csv": (network.to_csv, "text/csv; charset=utf-8", "csv"),
    "json": (network.to_json, "application/json", "json"),
}


async def export_network(
    *, session: AsyncSession, format_: str, district: str | None, on: date | None
) -> tuple[bytes, str, str]:
    """The network as GraphML, GEXF, CSV edge list or JSON: (body, media type, file extension)."""
    nodes, edges = await _load_network(session, district=district)
    writer, media_type, extension = EXPORTS[format_]
    return writer(network.build_graph(nodes, edges, on=on or date.today())), media_type, extension


# --- CSV import ------------------------------------------------------------------------------


async def import_actors(
    *,
    session: AsyncSession,
    outbox: Outbox,
    region: Region,
    topics: set[str],
    raw: bytes,
    dry_run: bool,
    all_or_nothing: bool,
    max_rows: int,
) -> ImportReport:
    """Import actors from CSV: valid rows in one transaction, each invalid row reported by line."""
    try:
        rows = domain.read_actor_csv(raw)
    except domain.CsvRejected as error:
        raise _invalid("Invalid CSV file", [domain.InvalidField(error.field, error.reason)]) from error
    if len(rows) > max_rows:
        raise _invalid("Invalid CSV file", [domain.InvalidField("file", f"more than {max_rows} rows")])
    errors: list[ImportRowError] = []
    valid: list[tuple[int, ActorCreate]] = []
    for row in rows:
        if "__error__" in row.values:
            errors.append(ImportRowError(line=row.line, field="row", reason=row.values["__error__"]))
            continue
        try:
            data = ActorCreate.model_validate(domain.csv_row_to_actor(row.values))
        except ValidationError as error:
            errors += [
                ImportRowError(
                    line=row.line, field=".".join(str(p) for p in e["loc"]) or "row", reason=e["msg"]
                )
                for e in error.errors()
            ]
            continue
        problems = domain.check_actor_profile(
            district=data.district,
            topics=data.topics,
            region_districts=set(region.districts),
            known_topics=topics,
        )
        if problems:
            errors += [ImportRowError(line=row.line, field=p.name, reason=p.reason) for p in problems]
            continue
        valid.append((row.line, data))
    created: list[str] = []
    skipped = 0
    async with session.begin():
        existing_external, existing_names = await _existing_identities(session, [d for _, d in valid])
        seen: dict[object, int] = {}
        fresh = []
        for line, data in valid:
            identity = _identity(data)
            if identity in seen:
                errors.append(ImportRowError(line=line, field="row", reason=f"repeats line {seen[identity]}"))
                continue
            seen[identity] = line
            if (data.external_id and data.external_id in existing_external) or (
                (domain.name_key(data.name), domain.place_key(data.municipality, data.district))
                in existing_names
            ):
                skipped += 1
                continue
            fresh.append(data)
        if dry_run or (all_or_nothing and errors):
            fresh = []
        now = datetime.now(UTC)
        for data in fresh:
            actor, index_rows, events = _new_actor(data, now)
            session.add(actor)
            created.append(actor.id)
            await session.flush()
            session.add_all(index_rows)
            await outbox.add(session, *events)
    errors.sort(key=lambda e: e.line)
    return ImportReport(
        rows=len(rows),
        imported=len(created),
        skipped_existing=skipped,
        invalid=len({e.line for e in errors}),
        dry_run=dry_run,
        created_ids=created,
        errors=errors,
    )


def _identity(data: ActorCreate) -> object:
    if data.external_id:
        return ("external", data.external_id)
    return ("name", domain.name_key(data.name), domain.place_key(data.municipality, data.district))


async def _existing_identities(
    session: AsyncSession, rows: list[ActorCreate]
) -> tuple[set[str], set[tuple[str, str]]]:
    external_ids = sorted({r.external_id for r in rows if r.external_id})
    name_keys = sorted({domain.name_key(r.name) for r in rows})
    external: set[str] = set()
    names: set[tuple[str, str]] = set()
    for chunk in range(0, max(len(external_ids), 1), 500):
        if external_ids:
            external |= set(
                await session.scalars(
                    select(ActorRow.external_id).where(
                        ActorRow.external_id.in_(external_ids[chunk : chunk + 500])
                    )
                )
            )
    for chunk in range(0, len(name_keys), 500):
        found = await session.execute(
            select(ActorRow.name_key, ActorRow.place_key).where(
                ActorRow.name_key.in_(name_keys[chunk : chunk + 500])
            )
        )
        names |= {(r.name_key, r.place_key) for r in found}
    return external, names
