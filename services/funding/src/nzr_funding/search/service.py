"""Use cases of search: a page of hits with facets from the in-memory index, one programme,
and whether a programme is a hit of a saved search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.errors import Invalid, NotFound
from nzr_common.problems import InvalidParam
from nzr_funding.catalogue.taxonomy import district_names, value_labels
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.deadlines.schemas import DeadlineRead
from nzr_funding.search import compounds, rules
from nzr_funding.search.cache import CatalogueCache, Entry
from nzr_funding.search.index import page_json
from nzr_funding.search.schemas import ProgrammePage, ProgrammeRead, SearchQuery


def filters_of(query: SearchQuery) -> rules.SearchFilters:
    """The filters of a query; unknown filter values or a reversed amount range are Invalid."""
    problems = []
    labels = value_labels()
    facets = {}
    for param in rules.FACET_DIMENSIONS:
        values = getattr(query, param)
        unknown = [v for v in values if v not in labels[param]]
        if unknown:
            problems.append(InvalidParam(name=param, reason=f"unknown value(s): {', '.join(unknown)}"))
        facets[param] = frozenset(values)
    if query.district is not None and query.district not in district_names():
        problems.append(InvalidParam(name="district", reason=f"unknown district: {query.district}"))
    if query.amount_min is not None and query.amount_max is not None and query.amount_min > query.amount_max:
        problems.append(InvalidParam(name="amount_min", reason="minimum exceeds maximum"))
    if problems:
        raise Invalid("Invalid search", [(p.name, p.reason) for p in problems])
    return rules.SearchFilters(
        facets=facets,
        open_now=query.open_now,
        deadline_before=query.deadline_before,
        amount_min=query.amount_min,
        amount_max=query.amount_max,
        district=query.district,
    )


def programme_read(entry: Entry, today: date) -> ProgrammeRead:
    """One programme as read, with its deadline state on ``today``."""
    deadline = entry.facts.deadline
    status = deadline_rules.cached_deadline_status(deadline, today)
    return ProgrammeRead(
        **entry.record,
        deadline=DeadlineRead(
            **deadline.to_data(),
            state=status.state.value,
            next_deadline=status.next_deadline,
            days_left=status.days_left,
        ),
    )


@dataclass(frozen=True)
class SearchAnswer:
    """A search page as sent (JSON) and what reporting counts of it."""

    document: bytes
    query: SearchQuery
    hits: int


async def search_programmes(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
) -> ProgrammePage:
    """Full-text search with filters, facet counts for every filter dimension and ranking."""
    answer = await search_answer(
        sessions=sessions, catalogue=catalogue, query=query, as_of=as_of, limit=limit, offset=offset
    )
    return ProgrammePage.model_validate_json(answer.document)


async def search_answer(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
) -> SearchAnswer:
    """``search_programmes`` as the JSON document sent to clients.

    The page is a function of the catalogue version and the request, so repeated searches are
    answered with the same bytes until the catalogue changes."""
    filters = filters_of(query)
    await catalogue.refreshed(sessions)
    key = ("search", query.model_dump_json(), as_of, limit, offset)
    found: SearchAnswer | None = catalogue.cached(key)
    if found is not None:
        return found
    index = catalogue.index
    terms = compounds.query_terms(query.q or "", index.postings)
    total, page, facets = index.search(
        terms.required,
        filters,
        as_of,
        stop_words_only=bool(query.q and query.q.strip()) and not terms.required,
        limit=limit,
        offset=offset,
        bonus=terms.bonus,
    )
    document = page_json(
        items=[(score, index.programme_json(position, as_of, _render_programme)) for score, position in page],
        total=total,
        limit=limit,
        offset=offset,
        as_of=as_of,
        facets=facets,
        labels=value_labels(),
    )
    return catalogue.remember(key, SearchAnswer(document, query, total))


def _render_programme(entry: Entry, as_of: date) -> bytes:
    return programme_read(entry, as_of).model_dump_json().encode()


async def get_programme(
    *, sessions: async_sessionmaker[AsyncSession], catalogue: CatalogueCache, programme_id: str, as_of: date
) -> ProgrammeRead:
    """One live programme of the in-memory catalogue, with its deadline state as of a day."""
    entry = (await catalogue.refreshed(sessions)).get(programme_id)
    if entry is None:
        raise NotFound("programme", programme_id)
    return programme_read(entry, as_of)


def search_matches_programme(query: SearchQuery, entry: Entry, today: date) -> bool:
    """Whether one programme is a hit of a saved search (the same rules as the search)."""
    filters = filters_of(query)
    terms = compounds.query_terms(query.q or "", frozenset(entry.doc_tokens))
    if query.q and query.q.strip() and not terms.required:
        return False
    return (
        rules.matches_query(terms.required, entry.doc_tokens)
        and rules.passes_ranges(entry.facts, filters, today)
        and rules.passes_facets(rules.facet_values(entry.facts, today), filters)
    )
