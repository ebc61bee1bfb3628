"""The reader side of the catalogue (every funding service): catalogue events projected into
the ``programmes`` read model, a consumer batch at a time; saved searches with alerts are
checked against every changed programme."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.event import listen
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from nzr_common.contracts.base import Envelope
from nzr_common.contracts.funding import (
    FundingProgramPublished,
    FundingProgramUpdated,
    FundingProgramWithdrawn,
)
from nzr_common.db import dialect_insert
from nzr_funding.alerts.models import SavedSearchRow
from nzr_funding.alerts.service import raise_alerts
from nzr_funding.catalogue.models import ProgrammeRow, ProjectionStateRow
from nzr_funding.deadlines import rules as deadline_rules
from nzr_funding.search import compounds
from nzr_funding.search.cache import CATALOGUE, entry_from_row, programme_document, stored_document
from nzr_funding.search.schemas import SearchQuery
from nzr_funding.search.service import search_matches_programme


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
    table = cast(Table, ProgrammeRow.__table__)  # a mapped class's table is a Table
    statement = dialect_insert(dialect, table)
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


async def apply_programme(
    session: AsyncSession, envelope: Envelope[FundingProgramPublished] | Envelope[FundingProgramUpdated]
) -> None:
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
        deadline_certainty=_certainty(event.deadline),
        name_doc=stored_document(compounds.document_tokens(event.name)),
        search_doc=stored_document(
            programme_document(
                event.name, event.summary, event.funder, event.topics, event.areas, event.eligible
            )
        ),
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
        await raise_alerts(session, row, change, hits)


def _certainty(deadline: dict[str, Any] | None) -> str:
    """The certainty of a programme's deadline as published (unknown when it cannot be read)."""
    try:
        return deadline_rules.deadline_from_data(deadline).certainty.value
    except deadline_rules.DeadlineError:
        return deadline_rules.Certainty.UNKNOWN.value


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
