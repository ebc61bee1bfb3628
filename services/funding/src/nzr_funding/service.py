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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.event import listen
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

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
from nzr_funding.index import page_json
from nzr_funding.reference import load_taxonomy
from nzr_funding.schemas import (
    AlertRead,
    Announcement,
    CatalogueChange,
    CriterionRead,
    DeadlineRead,
    ImportReport,
    MatchItem,
    MatchRequest,
    MatchResult,
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


@dataclass
class _Batch:
    """What one projecting transaction (a consumer batch) shares: one catalogue counter step,
    the saved searches with alerts, and the programme rows to write at commit."""

    transaction: Any
    seq: int
    searches: list[tuple[str, SearchQuery]]
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)


async def _batch(session: AsyncSession) -> _Batch:
    transaction = session.sync_session.get_transaction()
    batch = session.info.get(CATALOGUE)
    if batch is not None and batch.transaction is transaction:
        return batch
    state = await session.get(ProjectionStateRow, CATALOGUE)
    if state is None:
        state = ProjectionStateRow(name=CATALOGUE, version=0)
        session.add(state)
    state.version += 1
    await session.flush()
    rows = (await session.scalars(select(SavedSearchRow).where(SavedSearchRow.alerts.is_(True)))).all()
    searches = [(r.id, SearchQuery.model_validate(r.query)) for r in rows]
    batch = session.info[CATALOGUE] = _Batch(transaction, state.version, searches)
    if not session.info.get("programmes_written_at_commit"):
        listen(session.sync_session, "before_commit", _write_pending_at_commit)
        session.info["programmes_written_at_commit"] = True
    return batch


_PROGRAMME_COLUMNS = frozenset(ProgrammeRow.__table__.columns.keys())


@cache
def _upsert(dialect: str, columns: tuple[str, ...], returning: bool) -> Any:
    """INSERT … ON CONFLICT (id) DO UPDATE only when the stored revision is older (PostgreSQL
    and SQLite alike), optionally returning the id when the row was written; values bound."""
    table = ProgrammeRow.__table__
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: statement.excluded[k] for k in columns if k != "id"},
        where=table.c.revision < statement.excluded.revision,
    )
    return statement.returning(table.c.id) if returning else statement


def _take_pending(session: Session) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The rows collected in the session's current transaction, grouped by their columns
    (rows of a transaction that was rolled back are never written)."""
    batch = session.info.get(CATALOGUE)
    if batch is None or not batch.pending or batch.transaction is not session.get_transaction():
        return []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in batch.pending.values():
        groups.setdefault(tuple(sorted(values)), []).append(values)
    batch.pending = {}
    return list(groups.items())


def _write_pending_at_commit(session: Session) -> None:
    """Write the batch's programme rows in one executemany, inside the committing transaction
    (a failure fails the commit, and the consumer retries the events one by one)."""
    dialect = session.get_bind().dialect.name
    for columns, rows in _take_pending(session):
        session.execute(_upsert(dialect, columns, False), rows)


async def _write_pending(session: AsyncSession) -> None:
    """Write the rows collected so far now (before this transaction reads programmes)."""
    for columns, rows in _take_pending(session.sync_session):
        await session.execute(_upsert(_dialect(session), columns, False), rows)


async def apply_programme(session: AsyncSession, envelope: Envelope[FundingProgramPublished]) -> None:
    """Upsert the read model from a published/updated programme; an older revision is ignored.

    No read first: the rows of a batch are written together at commit (last revision wins,
    in the batch and against the table) and the catalogue counter moves once per batch. A
    programme that matches a saved search with alerts is written at once, so the alert is
    raised only when the row really changed."""
    event = envelope.data
    batch = await _batch(session)
    # Fields a newer contract version adds are ignored until the read model has a column.
    values = {
        k: v
        for k, v in event.model_dump(exclude={"programme_id", "revision", "deadline"}).items()
        if k in _PROGRAMME_COLUMNS
    }
    values.update(
        id=event.programme_id,
        deadline=event.deadline or {"kind": "unknown"},
        name_doc=text.search_document(event.name),
        search_doc=text.search_document(event.name, event.summary, event.funder),
        revision=event.revision,
        withdrawn=False,
        seq=batch.seq,
        updated_at=datetime.now(UTC),
    )
    hits = []
    if batch.searches:
        row = ProgrammeRow(**values)
        entry, today = entry_from_row(row), datetime.now(UTC).date()
        hits = [
            search_id for search_id, query in batch.searches if search_matches_programme(query, entry, today)
        ]
    if not hits:
        earlier = batch.pending.get(event.programme_id)
        if earlier is None or earlier["revision"] < event.revision:
            batch.pending[event.programme_id] = values
        return
    await _write_pending(session)
    statement = _upsert(_dialect(session), tuple(sorted(values)), True)
    if (await session.execute(statement, values)).first() is not None:
        change = "published" if event.subject.name == "program_published" else "updated"
        await _raise_alerts(session, row, change, hits)


async def apply_withdrawal(session: AsyncSession, envelope: Envelope[FundingProgramWithdrawn]) -> None:
    """Mark a programme withdrawn (kept as a tombstone so a late older revision cannot revive it)."""
    event = envelope.data
    batch = await _batch(session)
    await _write_pending(session)
    row = await session.get(ProgrammeRow, event.programme_id, populate_existing=True)
    revision = event.revision or ((row.revision + 1) if row else 1)
    if row is not None and row.revision >= revision:
        return
    seq = batch.seq
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
    sessions: async_sessionmaker[AsyncSession],
    catalogue: CatalogueCache,
    query: SearchQuery,
    as_of: date,
    limit: int,
    offset: int,
) -> ProgrammePage:
    """Full-text search with filters, facet counts for every filter dimension and ranking."""
    return ProgrammePage.model_validate_json(
        await search_programmes_json(
            sessions=sessions, catalogue=catalogue, query=query, as_of=as_of, limit=limit, offset=offset
        )
    )


async def search_programmes_json(
    *,
    sessions: async_sessionmaker[AsyncSession],
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
    await catalogue.refreshed(sessions)
    key = ("search", query.model_dump_json(), as_of, limit, offset)
    document = catalogue.cached(key)
    if document is not None:
        return document
    tokens = text.tokens(query.q or "")
    index = catalogue.index
    total, page, facets = index.search(
        tokens,
        filters,
        as_of,
        stop_words_only=bool(query.q and query.q.strip()) and not tokens,
        limit=limit,
        offset=offset,
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
    return catalogue.remember(key, document)


def _render_programme(entry: Entry, as_of: date) -> bytes:
    return programme_read(entry, as_of).model_dump_json().encode()


async def get_programme(
    *, sessions: async_sessionmaker[AsyncSession], catalogue: CatalogueCache, programme_id: str, as_of: date
) -> ProgrammeRead:
    entry = (await catalogue.refreshed(sessions)).get(programme_id)
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
    await catalogue.current(session)
    index = catalogue.index
    key = ("match", profile, today, request.limit, request.include_excluded)
    ranking = catalogue.cached(key) or catalogue.remember(
        key,
        index.best_matches(profile, today, limit=request.limit, include_excluded=request.include_excluded),
    )
    shown, counts = ranking
    items = []
    for match in shown:
        entry = index.entries[index.positions[match.programme_id]]
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


async def _raise_alerts(session: AsyncSession, row: ProgrammeRow, change: str, hits: list[str]) -> None:
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
            "saved_search_id": search_id,
            "programme_id": row.id,
            "revision": row.revision,
            "change": change,
            "created_at": now,
        }
        for search_id in hits
        if search_id not in already
    ]
    if values:
        await session.execute(insert(SearchAlertRow), values)
