"""Service functions of the funding service.

Writer side (the state): a catalogue change is recorded in ``catalogue_entries`` and announced
through the outbox under the catalogue's region token; nothing is written to the read model.
Reader side (every funding service): the handlers project those events into ``programmes``,
and search, matching, the deadline watch and saved-search alerts read from there.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nzr_common import text
from nzr_common.contracts.base import Envelope
from nzr_common.contracts.funding import (
    FundingDeadlineApproaching,
    FundingMatchRequested,
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
)
from nzr_common.outbox import Outbox
from nzr_common.problems import InvalidParam, ProblemError
from nzr_common.regions import load_districts
from nzr_funding import domain
from nzr_funding.catalogue import CATALOGUE, CatalogueCache, Entry, entry_from_row
from nzr_funding.reference import load_taxonomy
from nzr_funding.schemas import (
    AlertRead,
    Announcement,
    CatalogueChange,
    CriterionRead,
    DeadlineRead,
    FacetCount,
    ImportReport,
    MatchItem,
    MatchRequest,
    MatchResult,
    ProgrammeHit,
    ProgrammePage,
    ProgrammeRead,
    ProgrammeRecord,
    RejectedRecord,
    SavedSearchCreate,
    SavedSearchRead,
    SearchQuery,
    Taxonomy,
    TaxonomyDimension,
    TaxonomyValue,
)
from nzr_funding.tables import (
    ActorRow,
    CatalogueEntryRow,
    DeadlineAnnouncementRow,
    ProgrammeRow,
    ProjectionStateRow,
    SavedSearchRow,
    SearchAlertRow,
)

# ---------------------------------------------------------------------------------------------
# Taxonomy

#: search parameter → (taxonomy facet, programme field)
DIMENSIONS = {
    "funding_type": ("foerderart", "funding_types"),
    "area": ("foerderbereich", "areas"),
    "territory": ("foerdergebiet", "territories"),
    "eligible": ("foerderberechtigte", "eligible"),
}
LEVEL_LABELS = {"bund": "Bund", "land": "Land", "eu": "EU", "stiftung": "Stiftung / nichtstaatlich"}
STATE_LABELS = {"open": "offen", "upcoming": "demnächst", "closed": "geschlossen", "unknown": "unbekannt"}
TOPIC_LABELS = {
    "klimaschutz_energie": "Klimaschutz und Energie",
    "klimaanpassung": "Klimaanpassung",
    "mobilitaet": "Mobilität",
    "naturschutz_biodiversitaet": "Naturschutz und Biodiversität",
    "landwirtschaft_laendlicher_raum": "Landwirtschaft und ländlicher Raum",
    "nachhaltiges_wirtschaften": "Nachhaltiges Wirtschaften",
    "entwicklungszusammenarbeit": "Entwicklungszusammenarbeit",
    "bne_globales_lernen": "BNE und Globales Lernen",
    "demokratie_zivilgesellschaft": "Demokratie und Zivilgesellschaft",
    "ehrenamt_engagement": "Ehrenamt und Engagement",
    "grenzueberschreitende_zusammenarbeit": "Grenzüberschreitende Zusammenarbeit",
    "europa_jugend": "Europa und Jugend",
}


@cache
def taxonomy_keys() -> dict[str, frozenset[str]]:
    """Allowed keys per Förderdatenbank facet."""
    return {
        name: frozenset(v["key"] for v in facet["values"])
        for name, facet in load_taxonomy()["facets"].items()
    }


@cache
def value_labels() -> dict[str, dict[str, str]]:
    """Labels shown to people for every value of every search dimension."""
    facets = load_taxonomy()["facets"]
    labels = {
        param: {v["key"]: v["label"] for v in facets[facet]["values"]}
        for param, (facet, _) in DIMENSIONS.items()
    }
    labels["level"] = LEVEL_LABELS
    labels["topic"] = TOPIC_LABELS
    labels["state"] = STATE_LABELS
    return labels


def get_taxonomy() -> Taxonomy:
    """The filter dimensions with their values and labels, and where they come from."""
    document = load_taxonomy()
    dimensions = [
        TaxonomyDimension(
            parameter=param,
            label=document["facets"][facet]["label"],
            source="Förderdatenbank des Bundes",
            values=[TaxonomyValue(key=k, label=v) for k, v in value_labels()[param].items()],
        )
        for param, (facet, _) in DIMENSIONS.items()
    ]
    dimensions += [
        TaxonomyDimension(
            parameter="level",
            label="Ebene des Fördergebers",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in LEVEL_LABELS.items()],
        ),
        TaxonomyDimension(
            parameter="topic",
            label="Thema",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in TOPIC_LABELS.items()],
        ),
        TaxonomyDimension(
            parameter="state",
            label="Fristenstatus",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in STATE_LABELS.items()],
        ),
    ]
    return Taxonomy(
        source={
            **document["source"],
            "retrieved_on": document["retrieved_on"],
            "license_note": document["license_note"],
        },
        dimensions=dimensions,
    )


@cache
def _district_names() -> dict[str, str]:
    return {ags: district.name for ags, district in load_districts().items()}


# ---------------------------------------------------------------------------------------------
# Writer side: validating and recording catalogue changes


def _problem_params(error: ValidationError) -> list[InvalidParam]:
    return [
        InvalidParam(name=".".join(str(p) for p in e["loc"]) or "record", reason=e["msg"])
        for e in error.errors()
    ]


def normalise_record(raw: Any) -> tuple[dict[str, Any] | None, list[InvalidParam]]:
    """Validate one record; returns its catalogue form or the problems naming each field."""
    if not isinstance(raw, Mapping):
        return None, [InvalidParam(name="record", reason="expected an object")]
    try:
        record = ProgrammeRecord.model_validate(raw)
    except ValidationError as error:
        return None, _problem_params(error)
    problems: list[InvalidParam] = []
    try:
        deadline = domain.deadline_from_data(record.deadline)
    except domain.DeadlineError as error:
        problems.append(InvalidParam(name=error.field, reason=error.reason))
        deadline = None
    coverage = domain.derive_coverage(record.region, _district_names())
    territories = record.territories if record.territories is not None else list(coverage.territories)
    districts = record.districts if record.districts is not None else list(coverage.districts)
    exhaustive = coverage.districts_exhaustive if record.districts is None else True
    problems += [
        InvalidParam(name=p.field, reason=p.reason)
        for p in domain.check_programme(
            funding_types=record.funding_types,
            areas=record.areas,
            eligible=record.eligible,
            topics=record.topics,
            territories=territories,
            districts=districts,
            amount_min=record.amount_min_eur,
            amount_max=record.amount_max_eur,
            rate=record.funding_rate_percent,
            taxonomy=taxonomy_keys(),
            known_districts=_district_names(),
        )
    ]
    if problems or deadline is None:
        return None, problems
    data = record.model_dump(mode="json")
    data.update(
        deadline=deadline.to_data(),
        territories=territories,
        districts=districts,
        districts_exhaustive=exhaustive,
    )
    return data, []


def _event(record: dict[str, Any], revision: int, *, new: bool) -> FundingProgramPublished:
    event_class = FundingProgramPublished if new else FundingProgramUpdated
    fields = {k: v for k, v in record.items() if k != "id"}
    return event_class(programme_id=record["id"], revision=revision, **fields)


async def import_programmes(
    *,
    session: AsyncSession,
    outbox: Outbox,
    catalogue_region: str,
    records: Sequence[Any],
    all_or_nothing: bool = False,
) -> ImportReport:
    """Validate every record; record and announce the valid ones in one transaction.

    A re-imported id becomes a new revision when its content changed and is left alone when
    not. With ``all_or_nothing`` a single bad record rejects the whole import.
    """
    accepted: list[dict[str, Any]] = []
    rejected: list[RejectedRecord] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        data, problems = normalise_record(raw)
        raw_id = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
        if data is not None and data["id"] in seen:
            problems = [InvalidParam(name="id", reason=f"'{data['id']}' appears more than once")]
            data = None
        if data is None:
            rejected.append(RejectedRecord(index=index, id=raw_id, problems=problems))
            continue
        seen.add(data["id"])
        accepted.append(data)
    if rejected and (all_or_nothing or not accepted):
        params = [
            InvalidParam(name=f"records[{r.index}].{p.name}", reason=p.reason)
            for r in rejected
            for p in r.problems
        ]
        raise ProblemError(
            422,
            "Invalid programmes",
            f"{len(rejected)} of {len(records)} records are invalid; nothing was imported.",
            invalid_params=params,
            extra={"rejected": [r.model_dump() for r in rejected]},
        )
    changes: list[CatalogueChange] = []
    async with session.begin():
        existing = (
            {
                row.id: row
                for row in (
                    await session.scalars(
                        select(CatalogueEntryRow).where(CatalogueEntryRow.id.in_([d["id"] for d in accepted]))
                    )
                ).all()
            }
            if accepted
            else {}
        )
        now = datetime.now(UTC)
        events = []
        for data in accepted:
            row = existing.get(data["id"])
            if row is not None and row.record == data and not row.withdrawn:
                changes.append(CatalogueChange(id=data["id"], revision=row.revision, outcome="unchanged"))
                continue
            if row is None:
                session.add(
                    CatalogueEntryRow(id=data["id"], revision=1, record=data, withdrawn=False, updated_at=now)
                )
                changes.append(CatalogueChange(id=data["id"], revision=1, outcome="created"))
                events.append(_event(data, 1, new=True))
            else:
                row.revision += 1
                row.record, row.withdrawn, row.updated_at = data, False, now
                changes.append(CatalogueChange(id=data["id"], revision=row.revision, outcome="updated"))
                events.append(_event(data, row.revision, new=False))
        if events:
            await outbox.add(session, *events, region=catalogue_region)
    counts = Counter(c.outcome for c in changes)
    return ImportReport(
        received=len(records),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        rejected=rejected,
        programmes=changes,
    )


async def save_programme(
    *,
    session: AsyncSession,
    outbox: Outbox,
    catalogue_region: str,
    record: Any,
    expected_id: str | None = None,
) -> CatalogueChange:
    """Create or replace one programme; a bad record is a 422 naming its fields."""
    data, problems = normalise_record(record)
    if data is not None and expected_id is not None and data["id"] != expected_id:
        problems = [InvalidParam(name="id", reason=f"does not match the path id '{expected_id}'")]
        data = None
    if data is None:
        raise ProblemError(
            422,
            "Invalid programme",
            "; ".join(f"{p.name}: {p.reason}" for p in problems),
            invalid_params=problems,
        )
    report = await import_programmes(
        session=session, outbox=outbox, catalogue_region=catalogue_region, records=[record]
    )
    return report.programmes[0]


async def withdraw_programme(
    *, session: AsyncSession, outbox: Outbox, catalogue_region: str, programme_id: str
) -> CatalogueChange:
    """Take a programme out of the catalogue and announce FundingProgramWithdrawn."""
    async with session.begin():
        row = await session.get(CatalogueEntryRow, programme_id)
        if row is None or row.withdrawn:
            raise ProblemError(404, "Not Found", f"No programme {programme_id} in the catalogue.")
        now = datetime.now(UTC)
        row.revision += 1
        row.withdrawn, row.updated_at = True, now
        await outbox.add(
            session,
            FundingProgramWithdrawn(programme_id=programme_id, withdrawn_at=now, revision=row.revision),
            region=catalogue_region,
        )
    return CatalogueChange(id=programme_id, revision=row.revision, outcome="withdrawn")


CSV_LIST_COLUMNS = (
    "funding_types",
    "areas",
    "eligible",
    "topics",
    "additional_sources",
    "territories",
    "districts",
)
CSV_NUMBER_COLUMNS = ("amount_min_eur", "amount_max_eur", "funding_rate_percent")
CSV_REQUIRED = ("id", "name", "funder", "level", "region")


def records_from_csv(content: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV import (UTF-8, comma or semicolon, lists separated by '|').

    A file that is not UTF-8 or lacks required columns or has unknown ones is refused as a
    whole (400/422 naming the column); cell problems are reported per record later.
    """
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProblemError(
            400,
            "Unreadable CSV",
            f"The file is not UTF-8 (byte {error.start}).",
            invalid_params=[InvalidParam(name="file", reason="not UTF-8 encoded")],
        ) from error
    delimiter = ";" if decoded.split("\n", 1)[0].count(";") > decoded.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(decoded), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or []]
    allowed = set(ProgrammeRecord.model_fields)
    problems = [
        InvalidParam(name=c, reason="required column is missing") for c in CSV_REQUIRED if c not in columns
    ]
    problems += [
        InvalidParam(name=c or "(empty)", reason="unknown column") for c in columns if c not in allowed
    ]
    if problems:
        raise ProblemError(
            422,
            "Wrong CSV columns",
            "; ".join(f"{p.name}: {p.reason}" for p in problems),
            invalid_params=problems,
        )
    records = []
    for row in reader:
        record: dict[str, Any] = {}
        for column, value in row.items():
            if column is None:
                record["(extra cells)"] = value
                continue
            column = column.strip()
            value = (value or "").strip()
            if column in CSV_LIST_COLUMNS:
                if value or column not in ("territories", "districts"):
                    record[column] = [v.strip() for v in value.split("|") if v.strip()]
            elif value == "":
                continue
            elif column in CSV_NUMBER_COLUMNS:
                try:
                    record[column] = float(value.replace(",", "."))
                except ValueError:
                    record[column] = value  # the record validation names the field
            else:
                record[column] = value
        records.append(record)
    return records


# ---------------------------------------------------------------------------------------------
# Reader side: projecting catalogue events


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _next_seq(session: AsyncSession) -> int:
    state = await session.get(ProjectionStateRow, CATALOGUE)
    if state is None:
        state = ProjectionStateRow(name=CATALOGUE, version=0)
        session.add(state)
    state.version += 1
    await session.flush()
    return state.version


async def _reindex(session: AsyncSession, programme_id: str, document: str | None) -> None:
    if _dialect(session) != "sqlite":
        return  # PostgreSQL indexes to_tsvector('simple', search_doc) itself
    await session.execute(sql("DELETE FROM programme_fts WHERE programme_id = :id"), {"id": programme_id})
    if document is not None:
        await session.execute(
            sql("INSERT INTO programme_fts (programme_id, doc) VALUES (:id, :doc)"),
            {"id": programme_id, "doc": document},
        )


async def apply_programme(session: AsyncSession, envelope: Envelope[FundingProgramPublished]) -> None:
    """Upsert the read model from a published/updated programme; an older revision is ignored."""
    event = envelope.data
    row = await session.get(ProgrammeRow, event.programme_id)
    if row is not None and row.revision >= event.revision:
        return
    columns = ProgrammeRow.__table__.columns.keys()
    # Fields a newer contract version adds are ignored until the read model has a column.
    values = {
        k: v
        for k, v in event.model_dump(exclude={"programme_id", "revision", "deadline"}).items()
        if k in columns
    }
    values.update(
        deadline=event.deadline or {"kind": "unknown"},
        name_doc=text.search_document(event.name),
        search_doc=text.search_document(event.name, event.summary, event.funder),
        revision=event.revision,
        withdrawn=False,
        seq=await _next_seq(session),
        updated_at=datetime.now(UTC),
    )
    if row is None:
        row = ProgrammeRow(id=event.programme_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    await _reindex(session, row.id, row.search_doc)
    await _raise_alerts(
        session, row, "published" if envelope.data.subject.name == "program_published" else "updated"
    )


async def apply_withdrawal(session: AsyncSession, envelope: Envelope[FundingProgramWithdrawn]) -> None:
    """Mark a programme withdrawn (kept as a tombstone so a late older revision cannot revive it)."""
    event = envelope.data
    row = await session.get(ProgrammeRow, event.programme_id)
    revision = event.revision or ((row.revision + 1) if row else 1)
    if row is not None and row.revision >= revision:
        return
    seq = await _next_seq(session)
    if row is None:
        session.add(
            ProgrammeRow(
                id=event.programme_id,
                revision=revision,
                seq=seq,
                withdrawn=True,
                name="",
                funder="",
                level="bund",
                region="",
                deadline={"kind": "unknown"},
                updated_at=datetime.now(UTC),
            )
        )
    else:
        row.revision, row.seq, row.withdrawn, row.updated_at = revision, seq, True, datetime.now(UTC)
    await session.flush()
    await _reindex(session, event.programme_id, None)


async def apply_actor(
    session: AsyncSession,
    *,
    actor_id: str,
    kind: str,
    district: str,
    topics: list[str],
    public_profile: bool,
    version: int,
) -> None:
    """Keep the actor read model (kind, district, topics) for matching; newer versions win."""
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(
            ActorRow(
                id=actor_id,
                kind=kind,
                district=district,
                topics=topics,
                public_profile=public_profile,
                version=version,
            )
        )
    elif version >= row.version and not row.removed:
        row.kind, row.district, row.topics, row.version = kind, district, topics, version
        row.public_profile = public_profile


async def remove_actor(session: AsyncSession, actor_id: str) -> None:
    row = await session.get(ActorRow, actor_id)
    if row is None:
        session.add(ActorRow(id=actor_id, kind="sonstige", district="", topics=[], removed=True))
    else:
        row.removed = True


# ---------------------------------------------------------------------------------------------
# Search


def _filters(query: SearchQuery) -> domain.SearchFilters:
    problems = []
    labels = value_labels()
    facets = {}
    for param in domain.FACET_DIMENSIONS:
        values = getattr(query, param)
        unknown = [v for v in values if v not in labels[param]]
        if unknown:
            problems.append(InvalidParam(name=param, reason=f"unknown value(s): {', '.join(unknown)}"))
        facets[param] = frozenset(values)
    if query.amount_min is not None and query.amount_max is not None and query.amount_min > query.amount_max:
        problems.append(InvalidParam(name="amount_min", reason="minimum exceeds maximum"))
    if problems:
        raise ProblemError(
            422,
            "Invalid search",
            "; ".join(f"{p.name}: {p.reason}" for p in problems),
            invalid_params=problems,
        )
    return domain.SearchFilters(
        facets=facets,
        open_now=query.open_now,
        deadline_before=query.deadline_before,
        amount_min=query.amount_min,
        amount_max=query.amount_max,
    )


async def _text_candidates(session: AsyncSession, tokens: list[str]) -> list[str]:
    """Ids whose search document holds every token, from the database's full-text index."""
    if _dialect(session) == "sqlite":
        match = " ".join(f'"{t}"' for t in tokens)
        rows = await session.execute(
            sql("SELECT programme_id FROM programme_fts WHERE programme_fts MATCH :q"), {"q": match}
        )
    else:
        rows = await session.execute(
            sql(
                "SELECT id FROM programmes WHERE NOT withdrawn "
                "AND to_tsvector('simple', search_doc) @@ to_tsquery('simple', :q)"
            ),
            {"q": " & ".join(tokens)},
        )
    return [r[0] for r in rows]


def programme_read(entry: Entry, today: date) -> ProgrammeRead:
    deadline = entry.facts.deadline
    status = domain.cached_deadline_status(deadline, today)
    return ProgrammeRead(
        **entry.record,
        deadline=DeadlineRead(
            **deadline.to_data(),
            state=status.state.value,
            next_deadline=status.next_deadline,
            days_left=status.days_left,
        ),
    )


async def search_programmes(
    *,
    session: AsyncSession,
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
) -> ProgrammePage:
    """Full-text search with filters, facet counts for every filter dimension and ranking."""
    return ProgrammePage.model_validate_json(
        await search_programmes_json(
            session=session, catalogue=catalogue, query=query, as_of=as_of, limit=limit, offset=offset
        )
    )


async def search_programmes_json(
    *,
    session: AsyncSession,
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
) -> bytes:
    """``search_programmes`` as the JSON document sent to clients.

    The page is a function of the catalogue version and the request, so repeated searches are
    answered with the same bytes until the catalogue changes."""
    filters = _filters(query)
    entries = await catalogue.current(session)
    key = ("search", query.model_dump_json(), as_of, limit, offset)
    document = catalogue.cached(key)
    if document is not None:
        return document
    tokens = text.tokens(query.q or "")
    if tokens:
        candidates = [entries[i] for i in await _text_candidates(session, tokens) if i in entries]
    elif query.q and query.q.strip():
        candidates = []  # only stop words
    else:
        candidates = list(entries.values())
    page = _search_page(candidates, tokens, filters, as_of, limit, offset)
    return catalogue.remember(key, page.model_dump_json().encode())


def _search_page(
    candidates: list[Entry],
    tokens: list[str],
    filters: domain.SearchFilters,
    as_of: date,
    limit: int,
    offset: int,
) -> ProgrammePage:
    candidates = [e for e in candidates if domain.passes_ranges(e.facts, filters, as_of)]
    # One pass: a programme failing no selected dimension is a hit and counts in every facet;
    # one failing exactly one dimension still counts in that dimension's facet.
    active = [(d, wanted) for d, wanted in filters.facets.items() if wanted]
    counts: dict[str, Counter[str]] = {d: Counter() for d in domain.FACET_DIMENSIONS}
    hits = []
    for entry in candidates:
        values = domain.facet_values(entry.facts, as_of)
        failed = [d for d, wanted in active if not values[d] & wanted]
        if not failed:
            hits.append(entry)
            for dimension in domain.FACET_DIMENSIONS:
                counts[dimension].update(values[dimension])
        elif len(failed) == 1:
            counts[failed[0]].update(values[failed[0]])
    labels = value_labels()
    facets = {
        dimension: [
            FacetCount(value=v, label=labels[dimension].get(v, v), count=n)
            for v, n in sorted(counts[dimension].items(), key=lambda item: (-item[1], item[0]))
        ]
        for dimension in domain.FACET_DIMENSIONS
    }
    if tokens:
        scored = [(domain.text_score(tokens, e.name_tokens, e.doc_tokens), e) for e in hits]
        scored.sort(key=lambda item: (-item[0], item[1].facts.name, item[1].facts.id))
    else:

        def order(e: Entry) -> tuple[Any, ...]:
            status = domain.cached_deadline_status(e.facts.deadline, as_of)
            rank = {"open": 0, "upcoming": 1, "unknown": 2, "closed": 3}[status.state.value]
            return (rank, status.next_deadline or date.max, e.facts.name, e.facts.id)

        scored = [(0.0, e) for e in sorted(hits, key=order)]
    page = scored[offset : offset + limit]
    return ProgrammePage(
        items=[ProgrammeHit(score=score, programme=programme_read(e, as_of)) for score, e in page],
        total=len(hits),
        limit=limit,
        offset=offset,
        as_of=as_of,
        facets=facets,
    )


async def get_programme(
    *, session: AsyncSession, catalogue: CatalogueCache, programme_id: str, as_of: date
) -> ProgrammeRead:
    entry = (await catalogue.current(session)).get(programme_id)
    if entry is None:
        raise ProblemError(404, "Not Found", f"No programme {programme_id}.")
    return programme_read(entry, as_of)


def search_matches_programme(query: SearchQuery, entry: Entry, today: date) -> bool:
    """Whether one programme is a hit of a saved search (the same rules as the search)."""
    filters = _filters(query)
    tokens = text.tokens(query.q or "")
    if query.q and query.q.strip() and not tokens:
        return False
    return (
        domain.matches_query(tokens, entry.doc_tokens)
        and domain.passes_ranges(entry.facts, filters, today)
        and domain.passes_facets(domain.facet_values(entry.facts, today), filters)
    )


# ---------------------------------------------------------------------------------------------
# Matching


def _profile_problems(request: MatchRequest) -> list[InvalidParam]:
    problems = []
    if request.kind is not None and request.kind not in domain.KIND_TO_ELIGIBLE:
        problems.append(InvalidParam(name="kind", reason=f"'{request.kind}' is not an actor kind"))
    if request.district is not None and request.district not in _district_names():
        problems.append(InvalidParam(name="district", reason=f"'{request.district}' is not a known district"))
    known_topics = set(domain.ACTOR_TOPICS) | set(domain.FUNDING_TOPICS)
    unknown = [t for t in request.topics if t not in known_topics]
    if unknown:
        problems.append(InvalidParam(name="topics", reason=f"unknown topic(s): {', '.join(unknown)}"))
    return problems


async def match_programmes(
    *,
    session: AsyncSession,
    catalogue: CatalogueCache,
    outbox: Outbox,
    request: MatchRequest,
    today: date,
    sees_private_actors: bool,
) -> MatchResult:
    """Rank every programme for an actor or ad-hoc profile and explain each criterion.

    An actor without a public profile is only matched for the region's editors and admins."""
    problems = _profile_problems(request)
    if problems:
        raise ProblemError(
            422,
            "Invalid profile",
            "; ".join(f"{p.name}: {p.reason}" for p in problems),
            invalid_params=problems,
        )
    kind, district, topics = request.kind, request.district, list(request.topics)
    if request.actor_id is not None:
        actor = await session.get(ActorRow, request.actor_id)
        if actor is None or actor.removed or not (actor.public_profile or sees_private_actors):
            raise ProblemError(404, "Not Found", f"No actor {request.actor_id} in this region.")
        kind, district = kind or actor.kind, district or actor.district
        topics = topics or list(actor.topics)
    profile = domain.Profile(
        kind=kind,
        district=district,
        topics=frozenset(domain.funding_topics_of(topics)),
        amount_needed=request.amount_needed_eur,
        own_share_available=request.own_share_available_eur,
        preparation_days=request.preparation_days,
    )
    entries = await catalogue.current(session)
    key = ("match", profile, today, request.limit, request.include_excluded)
    ranking = catalogue.cached(key) or catalogue.remember(
        key,
        domain.best_matches(
            (e.facts for e in entries.values()),
            profile,
            today,
            limit=request.limit,
            include_excluded=request.include_excluded,
        ),
    )
    shown, counts = ranking
    items = []
    for match in shown:
        entry = entries[match.programme_id]
        status = domain.cached_deadline_status(entry.facts.deadline, today)
        items.append(
            MatchItem(
                programme_id=match.programme_id,
                name=match.name,
                fit=match.fit.value,
                score=match.score,
                criteria=[
                    CriterionRead(name=c.name, status=c.status.value, hard=c.hard, reason=c.reason)
                    for c in match.criteria
                ],
                url=entry.record["url"],
                deadline_state=status.state.value,
                next_deadline=status.next_deadline,
            )
        )
    match_id = str(uuid.uuid4())
    await outbox.add(
        session,
        FundingMatchRequested(
            match_id=match_id,
            actor_id=request.actor_id,
            actor_kind=kind,
            district=district,
            programmes_fully_met=counts[domain.Fit.FITS],
            performed_at=datetime.now(UTC),
        ),
    )
    await session.commit()
    return MatchResult(
        match_id=match_id,
        as_of=today,
        actor_id=request.actor_id,
        kind=kind,
        district=district,
        topics=topics,
        counts={fit.value: counts[fit] for fit in domain.Fit},
        items=items,
    )


# ---------------------------------------------------------------------------------------------
# Deadline watch


async def watch_deadlines(
    *,
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    outbox: Outbox,
    today: date,
    thresholds: Sequence[int] = domain.DEFAULT_THRESHOLDS,
) -> list[Announcement]:
    """Announce FundingDeadlineApproaching once per programme, deadline and threshold."""
    async with sessions() as session:
        entries = await catalogue.current(session)
    due = [
        (entry, *announcement)
        for entry in entries.values()
        for announcement in domain.due_announcements(entry.facts.deadline, today, thresholds)
    ]
    if not due:
        return []
    announced: list[Announcement] = []
    async with sessions() as session, session.begin():
        done = {
            (r.programme_id, r.deadline, r.threshold_days)
            for r in (
                await session.scalars(
                    select(DeadlineAnnouncementRow).where(
                        DeadlineAnnouncementRow.programme_id.in_([entry.facts.id for entry, *_ in due])
                    )
                )
            ).all()
        }
        now = datetime.now(UTC)
        events = []
        for entry, deadline, threshold, days_left in due:
            if (entry.facts.id, deadline, threshold) in done:
                continue
            session.add(
                DeadlineAnnouncementRow(
                    programme_id=entry.facts.id, deadline=deadline, threshold_days=threshold, announced_at=now
                )
            )
            events.append(
                FundingDeadlineApproaching(
                    programme_id=entry.facts.id, name=entry.facts.name, deadline=deadline, days_left=days_left
                )
            )
            announced.append(
                Announcement(
                    programme_id=entry.facts.id,
                    deadline=deadline,
                    threshold_days=threshold,
                    days_left=days_left,
                )
            )
        if events:
            await outbox.add(session, *events)
    return announced


# ---------------------------------------------------------------------------------------------
# Saved searches and alerts


def _saved_read(row: SavedSearchRow) -> SavedSearchRead:
    return SavedSearchRead(
        id=row.id,
        name=row.name,
        query=SearchQuery.model_validate(row.query),
        alerts=row.alerts,
        created_at=row.created_at,
    )


async def create_saved_search(
    *, session: AsyncSession, owner: str, data: SavedSearchCreate
) -> SavedSearchRead:
    """Save a search; with ``alerts`` every new or changed matching programme raises an alert."""
    _filters(data.query)
    row = SavedSearchRow(
        id=str(uuid.uuid4()),
        owner=owner,
        name=data.name,
        query=data.query.model_dump(mode="json"),
        alerts=data.alerts,
        created_at=datetime.now(UTC),
    )
    async with session.begin():
        session.add(row)
    return _saved_read(row)


async def list_saved_searches(*, session: AsyncSession, owner: str) -> list[SavedSearchRead]:
    rows = await session.scalars(
        select(SavedSearchRow).where(SavedSearchRow.owner == owner).order_by(SavedSearchRow.created_at)
    )
    return [_saved_read(r) for r in rows]


async def _own_search(session: AsyncSession, owner: str, search_id: str) -> SavedSearchRow:
    row = await session.get(SavedSearchRow, search_id)
    if row is None or row.owner != owner:
        raise ProblemError(404, "Not Found", f"No saved search {search_id}.")
    return row


async def delete_saved_search(*, session: AsyncSession, owner: str, search_id: str) -> None:
    async with session.begin():
        row = await _own_search(session, owner, search_id)
        await session.execute(delete(SearchAlertRow).where(SearchAlertRow.saved_search_id == row.id))
        await session.delete(row)


async def list_alerts(*, session: AsyncSession, owner: str, search_id: str) -> list[AlertRead]:
    await _own_search(session, owner, search_id)
    rows = (
        await session.execute(
            select(SearchAlertRow, ProgrammeRow.name)
            .join(ProgrammeRow, ProgrammeRow.id == SearchAlertRow.programme_id, isouter=True)
            .where(SearchAlertRow.saved_search_id == search_id)
            .order_by(SearchAlertRow.id)
        )
    ).all()
    return [
        AlertRead(
            id=a.id,
            saved_search_id=a.saved_search_id,
            programme_id=a.programme_id,
            programme_name=name,
            revision=a.revision,
            change=a.change,
            created_at=a.created_at,
        )
        for a, name in rows
    ]


async def _raise_alerts(session: AsyncSession, row: ProgrammeRow, change: str) -> None:
    searches = (await session.scalars(select(SavedSearchRow).where(SavedSearchRow.alerts.is_(True)))).all()
    if not searches:
        return
    entry = entry_from_row(row)
    today = datetime.now(UTC).date()
    hits = [
        s for s in searches if search_matches_programme(SearchQuery.model_validate(s.query), entry, today)
    ]
    if not hits:
        return
    already = set(
        (
            await session.scalars(
                select(SearchAlertRow.saved_search_id).where(
                    SearchAlertRow.programme_id == row.id, SearchAlertRow.revision == row.revision
                )
            )
        ).all()
    )
    now = datetime.now(UTC)
    values = [
        {
            "saved_search_id": s.id,
            "programme_id": row.id,
            "revision": row.revision,
            "change": change,
            "created_at": now,
        }
        for s in hits
        if s.id not in already
    ]
    if values:
        await session.execute(insert(SearchAlertRow), values)
