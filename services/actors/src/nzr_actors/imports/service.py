"""The CSV import of actors: one transaction, new rows create actors, known ones update them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from nzr_actors.actors import rules as actor_rules
from nzr_actors.actors import service as actors
from nzr_actors.actors.models import ActorRow
from nzr_actors.actors.schemas import ActorCreate, ActorUpdate, ResourceIn
from nzr_actors.imports import rules
from nzr_actors.imports.schemas import ImportDuplicate, ImportDuplicateCandidate, ImportReport, ImportRowError
from nzr_common.contracts.actors import ActorUpdated
from nzr_common.errors import Conflict, Invalid
from nzr_common.outbox import Outbox
from nzr_common.problems import field_name
from nzr_common.regions import Region

#: A valid row of the file: its line, the actor it describes, the columns that have a value.
_ValidRow = tuple[int, ActorCreate, frozenset[str]]


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
    confirmed: frozenset[int] | None = frozenset(),
) -> ImportReport:
    """Import actors from CSV in one transaction: new rows create actors, known ones update them.

    A row means the actor with its ``external_id``, else the one with its name key and place
    (unless the row and that actor carry different external ids). Only the cells with a value
    are written; a row that changes nothing is counted as unchanged. Every invalid row is reported by line.
    A new row that looks like an actor of its district or an earlier row is reported and
    imported only if its line is in ``confirmed`` (``None``: every such row is confirmed).
    """
    try:
        rows = rules.read_actor_csv(raw)
    except rules.CsvRejected as error:
        raise Invalid("Invalid CSV file", [(error.field, error.reason)]) from error
    if len(rows) > max_rows:
        raise Invalid("Invalid CSV file", [("file", f"more than {max_rows} rows")])
    errors: list[ImportRowError] = []
    valid = _valid_rows(rows, region=region, topics=topics, errors=errors)
    created: list[str] = []
    try:
        async with session.begin():
            plan = _plan(await _existing_actors(session, [d for _, d, _ in valid]), valid, errors)
            duplicates = await _likely_duplicates(session, plan.fresh, confirmed)
            plan.fresh = [(line, data) for line, data in plan.fresh if _imported(line, duplicates)]
            if all_or_nothing and errors:
                plan = _Plan()
            would_create = len(plan.fresh)
            updated = [row.id for row, _, _ in plan.changes]
            if dry_run:
                plan = _Plan(unchanged=plan.unchanged)
            now = datetime.now(UTC)
            for _, data in plan.fresh:
                actor, index_rows, events = actors.new_actor(data, now)
                session.add(actor)
                created.append(actor.id)
                await session.flush()
                session.add_all(index_rows)
                await outbox.add(session, *events)
            for stored, data, columns in plan.changes:
                await _apply_import(session, outbox, stored, data, columns, now)
    except StaleDataError as error:
        raise Conflict("Actors of this file were changed concurrently; import the file again.") from error
    errors.sort(key=lambda e: e.line)
    return ImportReport(
        rows=len(rows),
        created=would_create,
        imported=would_create,
        updated=len(updated),
        unchanged=plan.unchanged,
        invalid=len({e.line for e in errors}),
        dry_run=dry_run,
        created_ids=created,
        updated_ids=updated,
        errors=errors,
        held_back=sum(not d.imported for d in duplicates),
        likely_duplicates=duplicates,
    )


def _valid_rows(
    rows: list[rules.CsvRow], *, region: Region, topics: set[str], errors: list[ImportRowError]
) -> list[_ValidRow]:
    """The rows that are valid actors of the region; the others' problems go to ``errors``."""
    valid: list[_ValidRow] = []
    for row in rows:
        if "__error__" in row.values:
            errors.append(ImportRowError(line=row.line, field="row", reason=row.values["__error__"]))
            continue
        try:
            data = ActorCreate.model_validate(rules.csv_row_to_actor(row.values))
        except ValidationError as error:
            errors += [
                ImportRowError(
                    line=row.line, field=field_name(tuple(e["loc"])) if e["loc"] else "row", reason=e["msg"]
                )
                for e in error.errors()
            ]
            continue
        problems = actor_rules.check_actor_profile(
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
    return valid


@dataclass
class _Plan:
    """What the file does: actors to create, stored actors to change, rows that change nothing."""

    fresh: list[tuple[int, ActorCreate]] = field(default_factory=list)
    changes: list[tuple[ActorRow, ActorCreate, frozenset[str]]] = field(default_factory=list)
    unchanged: int = 0


def _plan(existing: _ExistingActors, valid: list[_ValidRow], errors: list[ImportRowError]) -> _Plan:
    """Match each valid row to the stored actors; repeated and ambiguous rows go to ``errors``."""
    plan = _Plan()
    seen: dict[object, int] = {}
    for line, data, columns in valid:
        identity = _identity(data)
        if identity in seen:
            errors.append(ImportRowError(line=line, field="row", reason=f"repeats line {seen[identity]}"))
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
                plan.changes.append((matches[0], data, columns))
            else:
                plan.unchanged += 1
        else:
            plan.fresh.append((line, data))
    return plan


# CSV column → actor field it writes (both resource columns write ``resources``).
IMPORT_FIELDS = {
    "name": "name",
    "kind": "kind",
    "sector": "sector",
    "legal_form": "legal_form",
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
    new_resources = actors.write_changes(row, update)
    if "external_id" in fields:
        row.external_id = fields["external_id"]
    row.updated_at = now
    await actors.reindex(session, row, update)
    await session.flush()
    await outbox.add(
        session,
        ActorUpdated(**actors.actor_profile(row), updated_at=row.updated_at, version=row.version),
        *actors.resource_events(row, new_resources),
    )


def _identity(data: ActorCreate) -> object:
    if data.external_id:
        return ("external", data.external_id)
    return ("name", actor_rules.name_key(data.name), actor_rules.place_key(data.municipality, data.district))


@dataclass
class _ExistingActors:
    by_external_id: dict[str, ActorRow]
    by_name: dict[tuple[str, str], list[ActorRow]]

    def match(self, data: ActorCreate) -> list[ActorRow]:
        """The stored actor(s) a row means: same external id, else same name key and place."""
        if data.external_id and data.external_id in self.by_external_id:
            return [self.by_external_id[data.external_id]]
        named = self.by_name.get(
            (actor_rules.name_key(data.name), actor_rules.place_key(data.municipality, data.district))
        )
        # A row with an unknown external id does not mean an actor that has another one.
        return [r for r in named or [] if data.external_id is None or r.external_id is None]


async def _existing_actors(session: AsyncSession, rows: list[ActorCreate]) -> _ExistingActors:
    external_ids = sorted({r.external_id for r in rows if r.external_id})
    name_keys = sorted({actor_rules.name_key(r.name) for r in rows})
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


def _imported(line: int, duplicates: list[ImportDuplicate]) -> bool:
    return all(d.imported for d in duplicates if d.line == line)


async def _likely_duplicates(
    session: AsyncSession, fresh: list[tuple[int, ActorCreate]], confirmed: frozenset[int] | None
) -> list[ImportDuplicate]:
    """New rows that look like a stored actor of their district or an earlier row (same website,
    similar name), each with its candidates; ``imported`` when the request confirmed it."""
    if not fresh:
        return []
    districts = sorted({data.district for _, data in fresh})
    sites = sorted({key for _, data in fresh if (key := actor_rules.website_key(_site(data)))})
    columns = (ActorRow.id, ActorRow.name, ActorRow.district, ActorRow.municipality, ActorRow.website)
    stored = {
        r.id: r for r in await session.execute(select(*columns).where(ActorRow.district.in_(districts)))
    }
    for chunk in range(0, len(sites), 500):
        for r in await session.execute(
            select(*columns).where(ActorRow.website_key.in_(sites[chunk : chunk + 500]))
        ):
            stored[r.id] = r
    found = rules.likely_duplicates(
        [rules.NamedActor(r.id, r.name, r.district, r.municipality, r.website) for r in stored.values()],
        [rules.NamedActor(line, d.name, d.district, d.municipality, _site(d)) for line, d in fresh],
    )
    names = dict(fresh)
    return [
        ImportDuplicate(
            line=line,
            name=names[line].name,
            imported=confirmed is None or line in confirmed,
            candidates=[
                ImportDuplicateCandidate(
                    actor_id=c.other.ident if isinstance(c.other.ident, str) else None,
                    line=c.other.ident if isinstance(c.other.ident, int) else None,
                    name=c.other.name,
                    municipality=c.other.municipality,
                    reason=c.reason,
                    similarity=c.similarity,
                )
                for c in candidates
            ],
        )
        for line, candidates in found.items()
    ]


def _site(data: ActorCreate) -> str | None:
    return str(data.website) if data.website else None
