"""The network analysis without I/O: graphs, metrics, suggestions and the JSON export."""

import json
from datetime import date

import pytest

from nzr_actors.network import analysis


def node(ident: str, sector: str = "zivilgesellschaft", topics: tuple[str, ...] = ()) -> analysis.Node:
    return analysis.Node(ident, ident.upper(), "verein", sector, "14612000", topics)


def edge(ident: str, a: str, b: str, since: date, until: date | None = None) -> analysis.Edge:
    return analysis.Edge(ident, a, b, "projekt", since, until, None)


def test_the_graph_on_a_date_holds_only_the_cooperations_active_then():
    nodes = [node("a"), node("b"), node("c")]
    edges = [edge("1", "a", "b", date(2020, 1, 1), date(2021, 1, 1)), edge("2", "b", "c", date(2022, 1, 1))]
    assert set(analysis.build_graph(nodes, edges, on=date(2020, 6, 1)).edges) == {("a", "b")}
    assert len(analysis.build_graph(nodes, edges).edges) == 2


def test_metrics_of_a_small_network():
    graph = analysis.lean_graph(
        [
            ("a", "A", "wirtschaft"),
            ("b", "B", "zivilgesellschaft"),
            ("c", "C", "wirtschaft"),
            ("d", "D", "bildung"),
        ],
        [("a", "b"), ("b", "c")],
    )
    result = analysis.metrics(graph, top_n=2)
    assert (result.actors, result.cooperations, result.components, result.largest_component) == (4, 2, 2, 3)
    assert result.density == pytest.approx(2 / 6)
    assert [r.actor_id for r in result.isolated] == ["d"]
    assert result.cross_sector_share == 1.0
    assert result.betweenness_centrality[0].actor_id == "b"


def test_pairs_without_anything_in_common_are_not_suggested():
    graph = analysis.build_graph([node("a", topics=("bne",)), node("b", topics=("kultur",))], [])
    assert analysis.suggestions(graph, actor_id="a", past_pairs=set(), limit=10, surprising_only=False) == []


def test_the_json_export_lists_nodes_and_edges():
    graph = analysis.build_graph([node("a"), node("b")], [edge("1", "a", "b", date(2020, 1, 1))])
    document = json.loads(analysis.to_json(graph))
    assert {n["id"] for n in document["nodes"]} == {"a", "b"}
    assert [(link["source"], link["target"]) for link in document["links"]] == [("a", "b")]
