"""Use cases of search: a page of hits with facets from the in-memory index, one programme,
and whether a programme is a hit of a saved search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common.errors import NotFound
from nzr_common.languages import DEFAULT_LANGUAGE
from nzr_funding.catalogue.taxonomy import district_names, value_labels
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.deadlines.schemas import DeadlineRead
from nzr_funding.i18n import Message, _, certainty_label, invalid
from nzr_funding.search import compounds, rules
from nzr_funding.search.cache import CatalogueCache, Entry
from nzr_funding.search.schemas import ProgrammePage, ProgrammeRead, ProgrammeSort, SearchQuery

#: The ``next`` link of a page from (items returned, total); None: no link.
NextLink = Callable[[int, int], str | None]


def filters_of(query: SearchQuery, language: str = DEFAULT_LANGUAGE) -> rules.SearchFilters:
    """The filters of a query; unknown codes (filter values, district) or a reversed amount
    range are Invalid, each naming its parameter, in the caller's language."""
    problems: list[tuple[str, Message]] = []
    labels = value_labels()
    facets = {}
    for param in rules.FACET_DIMENSIONS:
        values = getattr(query, param)
        unknown = tuple(v for v in values if v not in labels[param])
        if unknown:
            problems.append((param, _("unknown value(s): {values}", values=unknown)))
        facets[param] = frozenset(values)
    if query.district is not None and query.district not in district_names():
        problems.append(("district", _("unknown district: {district}", district=query.district)))
    if query.amount_min is not None and query.amount_max is not None and query.amount_min > query.amount_max:
        problems.append(("amount_min", _("minimum exceeds maximum")))
    if problems:
        raise invalid(_("Invalid search"), problems, language)
    return rules.SearchFilters(
        facets=facets,
        open_now=query.open_now,
        deadline_before=query.deadline_before,
        amount_min=query.amount_min,
        amount_max=query.amount_max,
        district=query.district,
    )


def deadline_read(deadline: deadline_rules.Deadline, today: date, language: str) -> DeadlineRead:
    """A deadline with its state on ``today`` and its certainty said in the caller's language."""
    status = deadline_rules.cached_deadline_status(deadline, today)
    return DeadlineRead(
        **{**deadline.to_data(), "certainty": deadline.certainty.value},
        certainty_label=certainty_label(deadline.certainty, language),
        state=status.state.value,
        next_deadline=status.next_deadline,
        days_left=status.days_left,
    )


def programme_read(entry: Entry, today: date, language: str = DEFAULT_LANGUAGE) -> ProgrammeRead:
    """One programme as read, with its deadline state on ``today``."""
    return ProgrammeRead(**entry.record, deadline=deadline_read(entry.facts.deadline, today, language))


@dataclass(frozen=True)
class SearchAnswer:
    """A search page as sent (JSON), its ``next`` link and what reporting counts of it."""

    document: bytes
    query: SearchQuery
    hits: int
    next: str | None = None
    returned: int = 0


async def search_programmes(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
    language: str = DEFAULT_LANGUAGE,
    sort: ProgrammeSort | None = None,
    next_link: NextLink | None = None,
) -> ProgrammePage:
    """Full-text search with filters, facet counts for every filter dimension and ranking."""
    answer = await search_answer(
        sessions=sessions,
        catalogue=catalogue,
        query=query,
        as_of=as_of,
        limit=limit,
        offset=offset,
        language=language,
        sort=sort,
        next_link=next_link,
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
    language: str = DEFAULT_LANGUAGE,
    sort: ProgrammeSort | None = None,
    next_link: NextLink | None = None,
) -> SearchAnswer:
    """``search_programmes`` as the JSON document sent to clients; ``next_link`` makes the
    page's ``next`` (the URL depends on the request, the rest does not).

    The page is a function of the catalogue version and the request, so repeated searches are
    answered with the same bytes until the catalogue changes."""
    filters = filters_of(query, language)
    await catalogue.refreshed(sessions)
    key = ("search", query.model_dump_json(), as_of, limit, offset, sort, language)
    found: SearchAnswer | None = catalogue.cached(key)
    if found is None:
        await catalogue.indexed()
        found = catalogue.remember(
            key, _search(catalogue, query, filters, as_of, limit, offset, sort, language)
        )
    from nzr_funding.search.index import with_next  # numpy: loaded with the index (cache.py)

    next_url = next_link(found.returned, found.hits) if next_link is not None else None
    return replace(found, document=with_next(found.document, next_url), next=next_url)


def _search(
    catalogue: CatalogueCache,
    query: SearchQuery,
    filters: rules.SearchFilters,
    as_of: date,
    limit: int,
    offset: int,
    sort: ProgrammeSort | None,
    language: str,
) -> SearchAnswer:
    """The page without its ``next`` link (``document`` is left open for ``with_next``)."""
    from nzr_funding.search.index import page_json  # numpy: loaded with the index (cache.py)

    index = catalogue.index
    terms = compounds.query_terms(query.q or "", index.postings, index.corrections)
    total, page, facets = index.search(
        terms.required,
        filters,
        as_of,
        stop_words_only=bool(query.q and query.q.strip()) and not terms.required,
        limit=limit,
        offset=offset,
        bonus=terms.bonus,
        sort=sort,
    )
    document = page_json(
        items=[
            (score, index.programme_json(position, as_of, _render_programme, language))
            for score, position in page
        ],
        total=total,
        as_of=as_of,
        facets=facets,
        labels=value_labels(),
    )
    return SearchAnswer(document, query, total, returned=len(page))


def _render_programme(entry: Entry, as_of: date, language: str) -> bytes:
    return programme_read(entry, as_of, language).model_dump_json().encode()


async def get_programme(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    programme_id: str,
    as_of: date,
    language: str = DEFAULT_LANGUAGE,
) -> ProgrammeRead:
    """One live programme of the in-memory catalogue, with its deadline state as of a day."""
    entry = (await catalogue.refreshed(sessions)).get(programme_id)
    if entry is None:
        raise NotFound("programme", programme_id)
    return programme_read(entry, as_of, language)


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
