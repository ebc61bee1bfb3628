"""Read paths of actors through SQLAlchemy Core (no ORM session, no transaction): the search with
its filters, sorting and cursor paging, and the duplicate check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, RowMapping, String, and_, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from nzr_actors.actors import rules
from nzr_actors.actors.models import ActorResourceRow, ActorRow, ActorTopicRow
from nzr_actors.actors.reader import COLUMNS as READ_COLUMNS
from nzr_actors.actors.schemas import ActorPage, ActorRead, ActorSort, DuplicateCandidate, DuplicateReport
from nzr_common.errors import Invalid, NotFound
from nzr_common.text import tokens


def _dialect(connection: AsyncSession | AsyncConnection) -> str:
    if isinstance(connection, AsyncSession):
        return connection.get_bind().dialect.name
    return connection.dialect.name


#: A sort key of the search: a column or the relevance, as SQL.
SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


def _text_match(dialect: str, terms: list[str]) -> tuple[ColumnElement[bool], SortKey]:
    """(where clause, relevance expression) for stems that must all occur."""
    if dialect == "postgresql":
        # The stored tsvector column of migration 0002 (GIN indexed): nothing is re-parsed.
        vector: ColumnElement[Any] = literal_column("actors.search_vector")
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


def _keyset_after(
    keys: list[tuple[SortKey, bool]], values: list[object], last_id: str
) -> ColumnElement[bool]:
    """Rows after (values, last_id) in the order of ``keys``: k1 > v1 OR (k1 = v1 AND (...))."""
    condition: ColumnElement[bool] = ActorRow.id > last_id
    for (expression, descending), value in reversed(list(zip(keys, values, strict=True))):
        beyond = expression < value if descending else expression > value
        condition = or_(beyond, and_(expression == value, condition))
    return condition


@dataclass(frozen=True)
class _Filters:
    """The search's where clauses and, with search terms, its relevance expression."""

    where: list[ColumnElement[bool]]
    relevance: SortKey | None


@dataclass(frozen=True)
class _Criteria:
    """What a search asks for (its fingerprint is the scope of its cursors)."""

    q: str | None
    kinds: list[str]
    sectors: list[str]
    legal_forms: list[str]
    districts: list[str]
    topics: list[str]
    offers: list[str]
    needs: list[str]
    public_only: bool


def _filters(dialect: str, criteria: _Criteria) -> _Filters:
    q, kinds, sectors, districts = criteria.q, criteria.kinds, criteria.sectors, criteria.districts
    topics, offers, needs, public_only = (
        criteria.topics,
        criteria.offers,
        criteria.needs,
        criteria.public_only,
    )
    where: list[ColumnElement[bool]] = []
    relevance = None
    terms = tokens(q) if q else []
    if terms:
        match, relevance = _text_match(dialect, terms)
        where.append(match)
    elif q and q.strip():
        where.append(literal_column("1") == 0)  # only stop words: nothing can match
    if public_only:
        where.append(ActorRow.public_profile.is_(True))
    for column, values in (
        (ActorRow.kind, kinds),
        (ActorRow.sector, sectors),
        (ActorRow.legal_form, criteria.legal_forms),
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
    return _Filters(where, relevance)


def _sort_keys(sort: ActorSort | None, relevance: SortKey | None) -> tuple[str, list[tuple[SortKey, bool]]]:
    """The sort asked for (relevance with search terms, else name) and its SQL keys."""
    chosen = sort or ("relevance" if relevance is not None else "name")
    if chosen == "relevance" and relevance is None:
        chosen = "name"
    expressions: dict[str, SortKey] = {
        "name_key": ActorRow.name_key,
        "created_at": ActorRow.created_at,
        "updated_at": ActorRow.updated_at,
    }
    if relevance is not None:
        expressions["relevance"] = relevance
    return chosen, [(expressions[name], descending) for name, descending in SORT_KEYS[chosen]]


async def search_actors(
    *,
    connection: AsyncConnection,
    q: str | None,
    kinds: Sequence[str],
    sectors: Sequence[str],
    districts: Sequence[str],
    topics: Sequence[str],
    offers: Sequence[str],
    needs: Sequence[str],
    public_only: bool,
    sort: ActorSort | None,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    legal_forms: Sequence[str] = (),
) -> ActorPage:
    """German full-text search with filters, sorting, a total count and keyset paging (``cursor``;
    ``offset`` only for the deprecated ``page``). The page's ``next_cursor`` is the cursor of the
    next page; the route makes the ``next`` link of it."""
    criteria = _Criteria(
        q=q,
        kinds=list(kinds),
        sectors=list(sectors),
        legal_forms=list(legal_forms),
        districts=list(districts),
        topics=list(topics),
        offers=list(offers),
        needs=list(needs),
        public_only=public_only,
    )
    filters = _filters(_dialect(connection), criteria)
    where = filters.where
    chosen, keys = _sort_keys(sort, filters.relevance)
    order = [e.desc() if descending else e.asc() for e, descending in keys] + [ActorRow.id.asc()]
    scope = rules.search_scope(**asdict(criteria))
    key_columns = [e.label(f"sort_{i}") for i, (e, _) in enumerate(keys)]
    columns = [ActorRow.__table__.c[c] for c in READ_COLUMNS]
    statement = select(*columns, *key_columns)
    total: int = 0
    if cursor is not None:
        position = _read_cursor(cursor, sort=chosen, scope=scope, keys=len(keys))
        statement = statement.where(
            *where, _keyset_after(keys, _cursor_values(position.values, SORT_KEYS[chosen]), position.last_id)
        )
        total = await connection.scalar(select(func.count()).select_from(ActorRow).where(*where)) or 0
    else:
        # The total rides along as a window count: one statement for the page and its total.
        statement = statement.add_columns(func.count().over().label("total")).where(*where)
        statement = statement.offset(offset)
    rows = (await connection.execute(statement.order_by(*order).limit(limit + 1))).mappings().all()
    more, rows = len(rows) > limit, rows[:limit]
    if cursor is None:
        total = (
            rows[0]["total"]
            if rows
            else await connection.scalar(select(func.count()).select_from(ActorRow).where(*where)) or 0
        )
    return ActorPage(
        items=[ActorRead.model_validate({c: r[c] for c in READ_COLUMNS}) for r in rows],
        total=total,
        next_cursor=_next_cursor(rows[-1], sort=chosen, scope=scope, keys=len(keys)) if more else None,
    )


def _next_cursor(last: RowMapping, *, sort: str, scope: str, keys: int) -> str:
    """The cursor of the page after the one ending with ``last``."""
    return rules.encode_cursor(
        rules.Cursor(
            sort=sort,
            scope=scope,
            values=[_cursor_value(last[f"sort_{i}"]) for i in range(keys)],
            last_id=last["id"],
        )
    )


def _cursor_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _cursor_values(values: list[object], keys: list[tuple[str, bool]]) -> list[object]:
    return [
        datetime.fromisoformat(str(v)) if name in ("created_at", "updated_at") else v
        for v, (name, _) in zip(values, keys, strict=True)
    ]


def _read_cursor(cursor: str, *, sort: str, scope: str, keys: int) -> rules.Cursor:
    try:
        position = rules.decode_cursor(cursor)
    except ValueError as error:
        raise Invalid("Invalid cursor", [rules.InvalidField("cursor", str(error))]) from error
    if position.sort != sort or position.scope != scope or len(position.values) != keys:
        raise Invalid(
            "Invalid cursor",
            [rules.InvalidField("cursor", "the cursor belongs to another search (query, filters or sort)")],
        )
    return position


async def duplicate_candidates(
    session: AsyncSession | AsyncConnection,
    *,
    name: str,
    municipality: str | None,
    district: str,
    website: str | None,
    exclude_id: str | None = None,
) -> list[DuplicateCandidate]:
    """Stored actors that are likely the one named: the same website anywhere, or a similar name
    anywhere in the district (other municipalities' spellings included)."""
    site = rules.website_key(website)
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
                same_municipality=rules.place_key(r.municipality, district)
                == rules.place_key(municipality, district),
            )
    # The district's names that share a block with this one (a word with the same first or last
    # four letters; filtered by the database on ix_actors_district_name), compared by rapidfuzz.
    key = rules.name_key(name)
    blocks = [ActorRow.name_key.like(pattern) for pattern in rules.block_patterns(key)]
    sharing = or_(*blocks) if blocks else ActorRow.district == district
    keys = {
        r.id: r.name_key
        for r in await session.execute(
            select(ActorRow.id, ActorRow.name_key).where(ActorRow.district == district, sharing)
        )
        if r.id not in found and r.id != exclude_id
    }
    similar = rules.similar_names(key, keys)
    if similar:
        details = {
            r.id: r
            for r in await session.execute(
                select(ActorRow.id, ActorRow.name, ActorRow.municipality, ActorRow.website).where(
                    ActorRow.id.in_([str(i) for _, i in similar])
                )
            )
        }
        for score, actor_id in similar:
            d = details[str(actor_id)]
            found[d.id] = DuplicateCandidate(
                id=d.id,
                name=d.name,
                municipality=d.municipality,
                website=d.website,
                reason="similar_name",
                similarity=score,
                same_municipality=rules.place_key(d.municipality, district)
                == rules.place_key(municipality, district),
            )
    found.pop(exclude_id or "", None)
    return sorted(found.values(), key=lambda c: (-c.similarity, not c.same_municipality, c.name))


async def find_duplicates(
    *,
    session: AsyncSession | AsyncConnection,
    name: str,
    municipality: str | None,
    district: str,
    website: str | None,
    exclude_id: str | None = None,
) -> DuplicateReport:
    """Actors that are likely the same organisation: similar name in the district, or same website."""
    return DuplicateReport(
        candidates=await duplicate_candidates(
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
        raise NotFound("actor", actor_id)
    return await find_duplicates(
        session=session,
        name=row.name,
        municipality=row.municipality,
        district=row.district,
        website=row.website,
        exclude_id=row.id,
    )
