"""API models of the network analysis."""

from datetime import date

from pydantic import BaseModel, Field


class RankedActor(BaseModel):
    actor_id: str
    name: str
    value: float


class NetworkMetrics(BaseModel):
    actors: int
    cooperations: int = Field(description="pairs cooperating on the reference date")
    density: float
    components: int
    largest_component: int
    component_sizes: list[int]
    isolated_count: int
    isolated: list[RankedActor]
    degree_centrality: list[RankedActor]
    betweenness_centrality: list[RankedActor]
    betweenness_exact: bool = Field(description="false: sampled estimate for large networks")
    cross_sector_share: float
    on: date


class Suggestion(BaseModel):
    actor_id: str
    actor_name: str
    partner_id: str
    partner_name: str
    score: float
    parts: dict[str, float]
    shared_topics: list[str]
    resource_matches: list[str]
    surprising: bool
    reasons: list[str]


class SuggestionList(BaseModel):
    """The best partner suggestions by score: a ranking cut at ``limit``, not a paged list (there
    is no next page: further down the ranking the suggestions stop being useful, and the ranking
    is recomputed per network version)."""

    items: list[Suggestion]
    scoring: str
