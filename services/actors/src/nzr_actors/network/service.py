"""Use cases of the network analysis: metrics, partner suggestions, export."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import cache

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from nzr_actors.network import analysis, exports
from nzr_actors.network.precompute import SuggestionCache
from nzr_actors.network.reads import Reader, Scope, load_lean_network, load_network
from nzr_actors.network.schemas import NetworkMetrics, RankedActor, Suggestion, SuggestionList
from nzr_common.errors import Invalid, NotFound


@cache
def scoring_description() -> str:
    """How suggestions are scored, from the scoring module's docstring (imported on the first
    suggestion: it brings numpy, ~16 MB resident, that an idle process does not need)."""
    from nzr_actors.network import scoring

    return " ".join((scoring.__doc__ or "").split("\n\nHow:")[0].split())


def scope_of(
    *,
    district: str | None,
    subdistrict: str | None,
    districts: set[str],
    subdistricts: dict[str, list[str]],
) -> Scope:
    """The scope of a request; an unknown district or Stadtteil is a 422 naming the parameter."""
    problems = []
    if district and district not in districts:
        problems.append(("district", f"not a district of this region: {district}"))
    if subdistrict is not None and not any(subdistrict in names for names in subdistricts.values()):
        problems.append(("subdistrict", f"not in the region's SUBDISTRICTS: {subdistrict}"))
    if problems:
        raise Invalid("Unknown district or Stadtteil", problems)
    return Scope(district=district or None, subdistrict=subdistrict)


def _ranked(items: list[analysis.Ranked]) -> list[RankedActor]:
    return [RankedActor(actor_id=i.actor_id, name=i.name, value=i.value) for i in items]


async def network_metrics(
    *, session: AsyncSession | AsyncConnection, scope: Scope, on: date | None, top_n: int
) -> NetworkMetrics:
    """Density, components, centralities, isolated actors and cross-sector share of the network."""
    on = on or date.today()
    actors, pairs = await load_lean_network(session, scope, on=on)
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
    *,
    reader: Reader,
    cache: SuggestionCache,
    scope: Scope,
    actor_id: str | None,
    limit: int,
    surprising_only: bool,
) -> SuggestionList:
    """Actors (or pairs of the network) that never cooperated, ranked by the documented score."""
    if actor_id is None:
        index, ranked = await cache.for_region(reader, scope, limit=limit, surprising_only=surprising_only)
    else:
        found = await cache.for_actor(reader, scope, actor_id, limit=limit, surprising_only=surprising_only)
        if found is None:
            raise NotFound("actor", actor_id)
        index, ranked = found
    names = {node.id: node.name for node in index.nodes}
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
    return SuggestionList(items=items, scoring=scoring_description())


EXPORTS = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
}


async def export_network(
    *, session: AsyncSession, format_: str, scope: Scope, on: date | None
) -> tuple[bytes, str, str]:
    """The network as GraphML, GEXF, CSV edge list or JSON: (body, media type, file extension).

    GEXF holds the whole history (dynamic); the others the network on ``on`` (default today).
    """
    nodes, edges = await load_network(session, scope)
    media_type, extension = EXPORTS[format_]
    day = on or date.today()
    if format_ == "gexf":
        body = await asyncio.to_thread(exports.to_gexf, nodes, edges, today=date.today())
    else:
        writer = {"graphml": exports.to_graphml, "csv": exports.to_csv, "json": exports.to_json}[format_]
        body = await asyncio.to_thread(writer, nodes, edges, on=day)
    return body, media_type, extension
