"""What the network analysis reads: the network of a district (or Stadtteil), and its version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from nzr_actors.actors.models import ActorRow
from nzr_actors.cooperations.models import CooperationRow
from nzr_actors.network.analysis import Edge, Node

Reader = AsyncSession | AsyncConnection


@dataclass(frozen=True)
class Scope:
    """Which actors make the network: all of the region, one district, or one Stadtteil of it."""

    district: str | None = None
    subdistrict: str | None = None

    def where(self, actor: Any) -> list[Any]:
        conditions = []
        if self.district:
            conditions.append(actor.district == self.district)
        if self.subdistrict:
            conditions.append(actor.subdistrict == self.subdistrict)
        return conditions


#: The network's version: its actors (count, last change), all cooperations (count, last change)
#: and the day (cooperations start and end with the calendar). Any write changes it.
Version = tuple[int, datetime | None, int, datetime | None, date]


async def network_version(reader: Reader, scope: Scope, *, today: date) -> Version:
    """Two indexed aggregate reads; a deletion changes a count, any other write a last change."""
    actors = (
        await reader.execute(
            select(func.count(), func.max(ActorRow.updated_at)).where(*scope.where(ActorRow))
        )
    ).one()
    cooperations = (await reader.execute(select(func.count(), func.max(CooperationRow.updated_at)))).one()
    return (actors[0], actors[1], cooperations[0], cooperations[1], today)


async def actor_count(reader: Reader) -> int:
    """How many actors the region has."""
    return int(await reader.scalar(select(func.count()).select_from(ActorRow)) or 0)


async def load_network(reader: Reader, scope: Scope) -> tuple[list[Node], list[Edge]]:
    """The actors in ``scope`` and every cooperation (any date) between two of them."""
    actor_rows, edge_rows = await load_network_rows(reader, scope)
    return network_of(actor_rows, edge_rows)


async def load_network_rows(reader: Reader, scope: Scope) -> tuple[list[Any], list[Any]]:
    """The raw rows of ``load_network`` (turned into nodes and edges by ``network_of``, which
    callers may run off the event loop)."""
    query = select(
        ActorRow.id,
        ActorRow.name,
        ActorRow.kind,
        ActorRow.sector,
        ActorRow.district,
        ActorRow.subdistrict,
        ActorRow.topics,
        ActorRow.resources,
    ).where(*scope.where(ActorRow))
    edge_query = select(
        CooperationRow.id,
        CooperationRow.actor_a,
        CooperationRow.actor_b,
        CooperationRow.type,
        CooperationRow.since,
        CooperationRow.until,
        CooperationRow.topic,
    )
    if scope.district or scope.subdistrict:
        end_a, end_b = aliased(ActorRow), aliased(ActorRow)
        edge_query = (
            edge_query.join(end_a, end_a.id == CooperationRow.actor_a)
            .join(end_b, end_b.id == CooperationRow.actor_b)
            .where(*scope.where(end_a), *scope.where(end_b))
        )
    return list(await reader.execute(query)), list(await reader.execute(edge_query))


def network_of(actor_rows: list[Any], edge_rows: list[Any]) -> tuple[list[Node], list[Edge]]:
    """Nodes and edges of the rows read by ``load_network_rows`` (rows or plain tuples)."""
    nodes = [
        Node(
            id=actor_id,
            name=name,
            kind=kind,
            sector=sector,
            district=district,
            subdistrict=subdistrict,
            topics=tuple(topics),
            offers=frozenset(x["kind"] for x in resources if x["direction"] == "offered"),
            needs=frozenset(x["kind"] for x in resources if x["direction"] == "needed"),
        )
        for actor_id, name, kind, sector, district, subdistrict, topics, resources in actor_rows
    ]
    edges = [
        Edge(id=edge_id, actor_a=a, actor_b=b, type=type_, since=since, until=until, topic=topic)
        for edge_id, a, b, type_, since, until, topic in edge_rows
    ]
    return nodes, edges


async def load_lean_network(
    reader: Reader, scope: Scope, *, on: date
) -> tuple[frozenset[tuple[str, str, str]], frozenset[tuple[str, str]]]:
    """Two lean queries: (id, name, sector) of the actors, and the pairs cooperating on ``on``."""
    actor_query = select(ActorRow.id, ActorRow.name, ActorRow.sector).where(*scope.where(ActorRow))
    pair_query = (
        select(CooperationRow.actor_a, CooperationRow.actor_b)
        .where(
            CooperationRow.since <= on,
            or_(CooperationRow.until.is_(None), CooperationRow.until >= on),
        )
        .distinct()
    )
    if scope.district or scope.subdistrict:
        end_a, end_b = aliased(ActorRow), aliased(ActorRow)
        pair_query = (
            pair_query.join(end_a, end_a.id == CooperationRow.actor_a)
            .join(end_b, end_b.id == CooperationRow.actor_b)
            .where(*scope.where(end_a), *scope.where(end_b))
        )
    actors = frozenset((r[0], r[1], r[2]) for r in await reader.execute(actor_query))
    pairs = frozenset((r[0], r[1]) for r in await reader.execute(pair_query))
    return actors, pairs
