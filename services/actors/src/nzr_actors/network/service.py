"""Use cases of the network analysis: metrics, partner suggestions, export."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from nzr_actors.actors.models import ActorRow
from nzr_actors.cooperations.models import CooperationRow
from nzr_actors.cooperations.rules import cooperation_pair
from nzr_actors.network import analysis
from nzr_actors.network.schemas import NetworkMetrics, RankedActor, Suggestion, SuggestionList
from nzr_common.errors import NotFound


async def _load_network(
    session: AsyncSession, *, district: str | None
) -> tuple[list[analysis.Node], list[analysis.Edge]]:
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
        analysis.Node(
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
        analysis.Edge(
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


def _ranked(items: list[analysis.Ranked]) -> list[RankedActor]:
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
    result = await asyncio.to_thread(analysis.metrics_cached, actors, pairs, top_n)
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
    graph = analysis.build_graph(nodes, edges, on=date.today())
    if actor_id is not None and actor_id not in graph:
        raise NotFound("actor", actor_id)
    past = {cooperation_pair(e.actor_a, e.actor_b) for e in edges}
    ranked = analysis.suggestions(
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
    return SuggestionList(items=items, scoring=" ".join((analysis.__doc__ or "").split()))


EXPORTS = {
    "graphml": (analysis.to_graphml, "application/graphml+xml", "graphml"),
    "gexf": (analysis.to_gexf, "application/gexf+xml", "gexf"),
    "csv": (analysis.to_csv, "text/csv; charset=utf-8", "csv"),
    "json": (analysis.to_json, "application/json", "json"),
}


async def export_network(
    *, session: AsyncSession, format_: str, district: str | None, on: date | None
) -> tuple[bytes, str, str]:
    """The network as GraphML, GEXF, CSV edge list or JSON: (body, media type, file extension)."""
    nodes, edges = await _load_network(session, district=district)
    writer, media_type, extension = EXPORTS[format_]
    return writer(analysis.build_graph(nodes, edges, on=on or date.today())), media_type, extension
