"""Service functions of the actors service: state change and its events in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import ValidationError
from sqlalchemy import Float, String, and_, delete, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
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
    PersonErasedV2,
    ResourceOffered,
    ResourceSummary,
)
from nzr_common.contracts.base import IntegrationEvent
from nzr_common.erasure import MessagingEraser, erase_from_messaging_tables
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
    if found is None or (not include_private and not found.public_profile):
        raise _not_found("actor", actor_id)
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
            new_resources = _write_changes(row, data)
            row.updated_at = datetime.now(UTC)
            await _reindex(session, row, data)
            await session.flush()
            await outbox.add(
                session,
                ActorUpdated(**_profile(row), updated_at=row.updated_at, version=row.version),
                *_resource_events(row, new_resources),
            )
    except StaleDataError as error:
        raise ProblemError(412, "Precondition Failed", "The actor was changed concurrently.") from error
    return _actor_read(row)


def _write_changes(row: ActorRow, data: ActorUpdate) -> list[dict]:
    """Set the fields sent on the row and recompute its keys; returns the resources that are new."""
    new_resources: list[dict] = []
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


async def _reindex(session: AsyncSession, row: ActorRow, data: ActorUpdate) -> None:
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
        # actor_b has no foreign key (it may be another region's actor): delete these here.
        await session.execute(delete(CooperationRow).where(CooperationRow.actor_b == actor_id))
        await session.delete(row)
        await outbox.add(session, *events, ActorRemoved(actor_id=actor_id, removed_at=now))


# --- search and duplicates -------------------------------------------------------------------


def _dialect(connection: AsyncSession | AsyncConnection) -> str:
    if isinstance(connection, AsyncSession):
        return connection.get_bind().dialect.name
    return connection.dialect.name


def _text_match(dialect: str, terms: list[str]):  # type: ignore[no-untyped-def]
    """(where clause, relevance expression) for stems that must all occur."""
    if dialect == "postgresql":
        # The stored tsvector column of migration 0002 (GIN indexed): nothing is re-parsed.
        vector = literal_column("actors.search_vector")
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


SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    # sort → [(key, descending)]; the id always breaks ties (ascending), so the order is total.
    "relevance": [("relevance", True), ("name_key", False)],
    "name": [("name_key", False)],
    "-name": [("name_key", True)],
    "created_at": [("created_at", False)],
    "-created_at": [("created_at", True)],
    "updated_at": [("updated_at", False)],
    "-updated_at": [("updated_at", True)],
}


def _keyset_after(keys: list[tuple[object, bool]], values: list[object], last_id: str):  # type: ignore[no-untyped-def]
    """Rows after (values, last_id) in the order of ``keys``: k1 > v1 OR (k1 = v1 AND (...))."""
    condition = ActorRow.id > last_id
    for (expression, descending), value in reversed(list(zip(keys, values, strict=True))):
        beyond = expression < value if descending else expression > value  # type: ignore[operator]
        condition = or_(beyond, and_(expression == value, condition))
    return condition


async def search_actors(
    *,
    connection: AsyncConnection,
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
    cursor: str | None = None,
) -> ActorPage:
    """German full-text search with filters, sorting, a total count and page or cursor paging."""
    where = []
    relevance = None
    terms = tokens(q) if q else []
    if terms:
        match, relevance = _text_match(_dialect(connection), terms)
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
    if sort == "relevance" and relevance is None:
        sort = "name"
    expressions = {
        "relevance": relevance,
        "name_key": ActorRow.name_key,
        "created_at": ActorRow.created_at,
        "updated_at": ActorRow.updated_at,
    }
    keys = [(expressions[name], descending) for name, descending in SORT_KEYS[sort]]
    order = [e.desc() if descending else e.asc() for e, descending in keys] + [ActorRow.id.asc()]
    scope = domain.search_scope(
        q=q,
        kinds=kinds,
        sectors=sectors,
        districts=districts,
        topics=topics,
        offers=offers,
        needs=needs,
        public_only=public_only,
    )
    key_columns = [e.label(f"sort_{i}") for i, (e, _) in enumerate(keys)]
    columns = [ActorRow.__table__.c[c] for c in READ_COLUMNS]
    statement = select(*columns, *key_columns)
    if cursor is not None:
        position = _read_cursor(cursor, sort=sort, scope=scope, keys=len(keys))
        statement = statement.where(
            *where, _keyset_after(keys, _cursor_values(position.values, SORT_KEYS[sort]), position.last_id)
        )
        total = await connection.scalar(select(func.count()).select_from(ActorRow).where(*where)) or 0
    else:
        # The total rides along as a window count: one statement for the page and its total.
        statement = statement.add_columns(func.count().over().label("total")).where(*where)
        statement = statement.offset((page - 1) * page_size)
    rows = (await connection.execute(statement.order_by(*order).limit(page_size + 1))).mappings().all()
    more, rows = len(rows) > page_size, rows[:page_size]
    if cursor is None:
        total = (
            rows[0]["total"]
            if rows
            else await connection.scalar(select(func.count()).select_from(ActorRow).where(*where)) or 0
        )
    items = [ActorRead.model_validate({c: r[c] for c in READ_COLUMNS}) for r in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = domain.encode_cursor(
            domain.Cursor(
                sort=sort,
                scope=scope,
                values=[_cursor_value(last[f"sort_{i}"]) for i in range(len(keys))],
                last_id=last["id"],
            )
        )
    return ActorPage(
        items=items,
        total=total,
        page=None if cursor is not None else page,
        page_size=page_size,
        next_cursor=next_cursor,
    )


def _cursor_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _cursor_values(values: list[object], keys: list[tuple[str, bool]]) -> list[object]:
    return [
        datetime.fromisoformat(str(v)) if name in ("created_at", "updated_at") else v
        for v, (name, _) in zip(values, keys, strict=True)
    ]


def _read_cursor(cursor: str, *, sort: str, scope: str, keys: int) -> domain.Cursor:
    try:
        position = domain.decode_cursor(cursor)
    except ValueError as error:
        raise _invalid("Invalid cursor", [domain.InvalidField("cursor", str(error))]) from error
    if position.sort != sort or position.scope != scope or len(position.values) != keys:
        raise _invalid(
            "Invalid cursor",
            [domain.InvalidField("cursor", "the cursor belongs to another search (query, filters or sort)")],
        )
    return position


async def _duplicate_candidates(
    session: AsyncSession | AsyncConnection,
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
    session: AsyncSession | AsyncConnection,
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
    """Delete the person's data and the events about them still in the outbox, and announce
    PersonErasedV2 (the pseudonymous id only) so every service erases its copies."""
    person_id = domain.person_id_for(email)
    now = datetime.now(UTC)
    async with session.begin():
        result = await session.execute(delete(ContactRow).where(ContactRow.person_id == person_id))
        await erase_from_messaging_tables(session, outbox.tables, person_id)
        await outbox.add(session, PersonErasedV2(person_id=person_id, erased_at=now))
    return PersonErasure(person_id=person_id, erased_contacts=result.rowcount or 0, erased_at=now)


async def erase_published_copies(
    *, session: AsyncSession, eraser: MessagingEraser, region: str, person_id: str
) -> None:
    """On our own PersonErasedV2: delete the ContactAdded messages about the person from the
    stream (and any outbox row or dead letter that still names them)."""
    await eraser.erase_person(session, region=region, person_id=person_id)


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
        actor_b_region=row.partner_region,
        cross_sector=row.actor_b in sectors and sectors.get(row.actor_a) != sectors[row.actor_b],
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
    may_cross_regions: bool = False,
) -> CooperationRead:
    """Record a manual cooperation; announce CooperationRecorded.

    Both actors are of this region, unless the request names both regions (``actor_a_region``
    this one, ``actor_b_region`` the other) and ``may_cross_regions`` says the caller is
    authorised for both (a token of this region carrying the ``state`` role).
    """
    partner_region = data.actor_b_region if data.actor_b_region not in (None, region.id) else None
    if partner_region is not None and not may_cross_regions:
        raise ProblemError(
            403,
            "Forbidden",
            f"actor_b belongs to region {partner_region}: a cooperation across regions needs a token "
            "authorised for both regions (this region's token with the state role).",
            invalid_params=[InvalidParam(name="actor_b_region", reason="not authorised for this region")],
        )
    problems = []
    if data.actor_a_region not in (None, region.id):
        problems.append(
            domain.InvalidField("actor_a_region", f"actor_a must be an actor of this region ({region.id})")
        )
    elif partner_region is not None and data.actor_a_region is None:
        problems.append(
            domain.InvalidField(
                "actor_a_region", f"name both regions for a cooperation across regions ({region.id})"
            )
        )
    if data.actor_a == data.actor_b:
        problems.append(domain.InvalidField("actor_b", "an actor cannot cooperate with itself"))
    if data.topic is not None and data.topic not in topics:
        problems.append(domain.InvalidField("topic", f"unknown topic: {data.topic}"))
    if data.until is not None and data.until < data.since:
        problems.append(domain.InvalidField("until", "until is before since"))
    if problems:
        raise _invalid("Invalid cooperation", problems)
    now = datetime.now(UTC)
    async with session.begin():
        sectors = await _sectors(session, {data.actor_a, data.actor_b})
        local = ("actor_a",) if partner_region else ("actor_a", "actor_b")
        missing = [
            domain.InvalidField(f, f"no actor {getattr(data, f)} in this region")
            for f in local
            if getattr(data, f) not in sectors
        ]
        if partner_region and data.actor_b in sectors:
            missing.append(
                domain.InvalidField("actor_b_region", f"actor {data.actor_b} is an actor of this region")
            )
        if missing:
            raise _invalid("Invalid cooperation", missing)
        # Across regions this region's actor comes first; otherwise the pair is stored sorted.
        a, b = (
            (data.actor_a, data.actor_b)
            if partner_region
            else domain.cooperation_pair(data.actor_a, data.actor_b)
        )
        if existing := await _same_cooperation(session, a, b, data):
            raise ProblemError(
                409,
                "Duplicate cooperation",
                f"This cooperation is already recorded as {existing} (same actors, type and a period "
                "that overlaps); change that one instead.",
                extra={"existing_id": existing, "existing": f"/api/v1/cooperations/{existing}"},
            )
        row = CooperationRow(
            id=str(uuid.uuid4()),
            actor_a=a,
            actor_b=b,
            partner_region=partner_region,
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


async def _same_cooperation(session: AsyncSession, a: str, b: str, data: CooperationCreate) -> str | None:
    """The id of a cooperation of the pair (in storage order) of the same type whose period
    overlaps the new one's; the pair's local actor is locked so two such requests queue."""
    await session.execute(select(ActorRow.id).where(ActorRow.id == a).with_for_update())
    ends_after_start = or_(CooperationRow.until.is_(None), CooperationRow.until >= data.since)
    starts_before_end = CooperationRow.since <= (data.until or date.max)
    return await session.scalar(
        select(CooperationRow.id)
        .where(
            CooperationRow.actor_a == a,
            CooperationRow.actor_b == b,
            CooperationRow.type == data.type,
            ends_after_start,
            starts_before_end,
        )
        .order_by(CooperationRow.since)
        .limit(1)
    )


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


async def _load_lean_network(
    connection: AsyncSession | AsyncConnection, *, district: str | None, on: date
) -> tuple[frozenset[tuple[str, str, str]], frozenset[tuple[str, str]]]:
    """Two lean queries: (id, name, sector) of the actors, and the pairs cooperating on ``on``."""
    actor_query = select(ActorRow.id, ActorRow.name, ActorRow.sector)
    pair_query = (
        select(CooperationRow.actor_a, CooperationRow.actor_b)
        .where(
            CooperationRow.since <= on,
            or_(CooperationRow.until.is_(None), CooperationRow.until >= on),
        )
        .distinct()
    )
    if district:
        actor_query = actor_query.where(ActorRow.district == district)
        end_a, end_b = aliased(ActorRow), aliased(ActorRow)
        pair_query = (
            pair_query.join(end_a, end_a.id == CooperationRow.actor_a)
            .join(end_b, end_b.id == CooperationRow.actor_b)
            .where(end_a.district == district, end_b.district == district)
        )
    actors = frozenset((r[0], r[1], r[2]) for r in await connection.execute(actor_query))
    pairs = frozenset((r[0], r[1]) for r in await connection.execute(pair_query))
    return actors, pairs


async def network_metrics(
    *, session: AsyncSession | AsyncConnection, district: str | None, on: date | None, top_n: int
) -> NetworkMetrics:
    """Density, components, centralities, isolated actors and cross-sector share of the region."""
    on = on or date.today()
    actors, pairs = await _load_lean_network(session, district=district, on=on)
    # The analysis is CPU-bound (hundreds of ms for thousands of actors): off the event loop.
    result = await asyncio.to_thread(network.metrics_cached, actors, pairs, top_n)
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
    """Import actors from CSV in one transaction: new rows create actors, known ones update them.

    A row means the actor with its ``external_id``, else the one with its name key and place
    (unless the row and that actor carry different external ids). Only the cells with a value
    are written; a row that changes nothing is counted as unchanged. Every invalid row is reported by line.
    """
    try:
        rows = domain.read_actor_csv(raw)
    except domain.CsvRejected as error:
        raise _invalid("Invalid CSV file", [domain.InvalidField(error.field, error.reason)]) from error
    if len(rows) > max_rows:
        raise _invalid("Invalid CSV file", [domain.InvalidField("file", f"more than {max_rows} rows")])
    errors: list[ImportRowError] = []
    valid: list[tuple[int, ActorCreate, frozenset[str]]] = []
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
        # Columns with a value: an empty cell leaves the stored value of a known actor as it is.
        valid.append((row.line, data, frozenset(k for k, v in row.values.items() if v)))
    created: list[str] = []
    updated: list[str] = []
    would_create = 0
    unchanged = 0
    try:
        async with session.begin():
            existing = await _existing_actors(session, [d for _, d, _ in valid])
            seen: dict[object, int] = {}
            fresh: list[ActorCreate] = []
            changes: list[tuple[ActorRow, ActorCreate, frozenset[str]]] = []
            for line, data, columns in valid:
                identity = _identity(data)
                if identity in seen:
                    errors.append(
                        ImportRowError(line=line, field="row", reason=f"repeats line {seen[identity]}")
                    )
                    continue
                seen[identity] = line
                matches = existing.match(data)
                if len(matches) > 1:
                    errors.append(
                        ImportRowError(
                            line=line,
                            field="name",
                            reason=f"matches {len(matches)} actors in {data.municipality or data.district}; "
                            "add an external_id to say which one",
                        )
                    )
                elif matches:
                    if _import_changes(matches[0], data, columns):
                        changes.append((matches[0], data, columns))
                    else:
                        unchanged += 1
                else:
                    fresh.append(data)
            if all_or_nothing and errors:
                fresh, changes, unchanged = [], [], 0
            would_create = len(fresh)
            updated = [row.id for row, _, _ in changes]
            if dry_run:
                fresh, changes = [], []
            now = datetime.now(UTC)
            for data in fresh:
                actor, index_rows, events = _new_actor(data, now)
                session.add(actor)
                created.append(actor.id)
                await session.flush()
                session.add_all(index_rows)
                await outbox.add(session, *events)
            for row, data, columns in changes:
                await _apply_import(session, outbox, row, data, columns, now)
    except StaleDataError as error:
        raise ProblemError(
            409, "Conflict", "Actors of this file were changed concurrently; import the file again."
        ) from error
    errors.sort(key=lambda e: e.line)
    return ImportReport(
        rows=len(rows),
        created=would_create,
        imported=would_create,
        updated=len(updated),
        unchanged=unchanged,
        invalid=len({e.line for e in errors}),
        dry_run=dry_run,
        created_ids=created,
        updated_ids=updated,
        errors=errors,
    )


# CSV column → actor field it writes (both resource columns write ``resources``).
IMPORT_FIELDS = {
    "name": "name",
    "kind": "kind",
    "sector": "sector",
    "district": "district",
    "municipality": "municipality",
    "topics": "topics",
    "website": "website",
    "description": "description",
    "public_profile": "public_profile",
    "external_id": "external_id",
}


def _imported_resources(row: ActorRow, data: ActorCreate, columns: frozenset[str]) -> list[ResourceIn]:
    """The file's resources for the directions it has columns for; the others stay as stored."""
    directions = {
        d for c, d in (("resources_offered", "offered"), ("resources_needed", "needed")) if c in columns
    }
    kept = [ResourceIn.model_validate({k: r[k] for k in ResourceIn.model_fields}) for r in row.resources]
    return [r for r in kept if r.direction not in directions] + [
        r for r in data.resources if r.direction in directions
    ]


def _import_changes(row: ActorRow, data: ActorCreate, columns: frozenset[str]) -> bool:
    """Whether the file's values differ from the stored actor's (only columns the file has)."""
    for column, name in IMPORT_FIELDS.items():
        if column not in columns:
            continue
        value = getattr(data, name)
        if name == "website":
            value = str(value) if value else None
        elif name == "name":
            value = value.strip()
        elif name == "topics":
            value = list(value)
        if value != getattr(row, name):
            return True
    if columns & {"resources_offered", "resources_needed"}:
        new = sorted(r.model_dump_json() for r in _imported_resources(row, data, columns))
        old = sorted(
            ResourceIn.model_validate({k: r[k] for k in ResourceIn.model_fields}).model_dump_json()
            for r in row.resources
        )
        return new != old
    return False


async def _apply_import(
    session: AsyncSession,
    outbox: Outbox,
    row: ActorRow,
    data: ActorCreate,
    columns: frozenset[str],
    now: datetime,
) -> None:
    """Write the file's columns into a stored actor (as a PATCH would) and announce ActorUpdated."""
    fields = {
        name: getattr(data, name)
        for column, name in IMPORT_FIELDS.items()
        if column in columns and getattr(data, name) is not None
    }
    if columns & {"resources_offered", "resources_needed"}:
        fields["resources"] = _imported_resources(row, data, columns)
    update = ActorUpdate.model_validate({k: v for k, v in fields.items() if k != "external_id"})
    new_resources = _write_changes(row, update)
    if "external_id" in fields:
        row.external_id = fields["external_id"]
    row.updated_at = now
    await _reindex(session, row, update)
    await session.flush()
    await outbox.add(
        session,
        ActorUpdated(**_profile(row), updated_at=row.updated_at, version=row.version),
        *_resource_events(row, new_resources),
    )


def _identity(data: ActorCreate) -> object:
    if data.external_id:
        return ("external", data.external_id)
    return ("name", domain.name_key(data.name), domain.place_key(data.municipality, data.district))


@dataclass
class _ExistingActors:
    by_external_id: dict[str, ActorRow]
    by_name: dict[tuple[str, str], list[ActorRow]]

    def match(self, data: ActorCreate) -> list[ActorRow]:
        """The stored actor(s) a row means: same external id, else same name key and place."""
        if data.external_id and data.external_id in self.by_external_id:
            return [self.by_external_id[data.external_id]]
        named = self.by_name.get(
            (domain.name_key(data.name), domain.place_key(data.municipality, data.district))
        )
        # A row with an unknown external id does not mean an actor that has another one.
        return [r for r in named or [] if data.external_id is None or r.external_id is None]


async def _existing_actors(session: AsyncSession, rows: list[ActorCreate]) -> _ExistingActors:
    external_ids = sorted({r.external_id for r in rows if r.external_id})
    name_keys = sorted({domain.name_key(r.name) for r in rows})
    found: dict[str, ActorRow] = {}
    for chunk in range(0, len(external_ids), 500):
        for row in await session.scalars(
            select(ActorRow).where(ActorRow.external_id.in_(external_ids[chunk : chunk + 500]))
        ):
            found[row.id] = row
    for chunk in range(0, len(name_keys), 500):
        for row in await session.scalars(
            select(ActorRow).where(ActorRow.name_key.in_(name_keys[chunk : chunk + 500]))
        ):
            found[row.id] = row
    by_name: dict[tuple[str, str], list[ActorRow]] = {}
    for row in sorted(found.values(), key=lambda r: r.created_at):
        by_name.setdefault((row.name_key, row.place_key), []).append(row)
    return _ExistingActors(
        by_external_id={r.external_id: r for r in found.values() if r.external_id}, by_name=by_name
    )
