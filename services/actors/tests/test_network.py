"""Network analysis of one region: metrics, never-cooperated suggestions, exports.

The region (own service and database) holds a path A–C–D–E, and B and F without a current
cooperation (B and F cooperated until 2021).
"""

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest


@pytest.fixture(scope="module")
async def graph(actors):  # type: ignore[no-untyped-def]
    ids = {}
    specs = {
        "A": dict(
            sector="zivilgesellschaft",
            topics=["energie_klimaschutz", "bne"],
            resources=[{"kind": "raeume", "direction": "offered"}],
        ),
        "B": dict(
            sector="wirtschaft",
            kind="unternehmen",
            topics=["energie_klimaschutz"],
            resources=[{"kind": "raeume", "direction": "needed"}, {"kind": "geld", "direction": "needed"}],
        ),
        "C": dict(sector="zivilgesellschaft", topics=["energie_klimaschutz"]),
        "D": dict(sector="verwaltung_politik", kind="kommune", topics=["kultur"]),
        "E": dict(sector="bildung_wissenschaft", kind="bildungseinrichtung", topics=["bne"]),
        "F": dict(
            sector="zivilgesellschaft",
            topics=["soziales"],
            resources=[{"kind": "geld", "direction": "offered"}],
        ),
    }
    for key, spec in specs.items():
        ids[key] = (await actors.create(name=f"Akteur {key}", **spec))["id"]
    for a, b, since, until in (
        ("A", "C", "2024-01-01", None),
        ("C", "D", "2024-02-01", None),
        ("D", "E", "2024-03-01", None),
        ("B", "F", "2020-01-01", "2021-01-01"),
    ):
        response = await actors.client.post(
            "/api/v1/cooperations",
            headers=actors.editor,
            json={"actor_a": ids[a], "actor_b": ids[b], "type": "projekt", "since": since, "until": until},
        )
        assert response.status_code == 201, response.text
    return ids


async def test_metrics_name_density_components_centrality_isolated_actors_and_cross_sector_share(
    actors, graph
):
    metrics = (await actors.client.get("/api/v1/network/metrics", headers=actors.editor)).json()
    assert metrics["actors"] == 6 and metrics["cooperations"] == 3
    assert metrics["density"] == pytest.approx(0.2)
    assert metrics["components"] == 3 and metrics["component_sizes"] == [4, 1, 1]
    assert {a["name"] for a in metrics["isolated"]} == {"Akteur B", "Akteur F"}
    assert [a["name"] for a in metrics["betweenness_centrality"][:2]] == ["Akteur C", "Akteur D"]
    assert metrics["betweenness_centrality"][0]["value"] == pytest.approx(0.2)
    assert metrics["degree_centrality"][0]["value"] == pytest.approx(0.4)
    assert metrics["cross_sector_share"] == pytest.approx(2 / 3, abs=1e-5)
    back_then = (
        await actors.client.get("/api/v1/network/metrics", params={"on": "2020-06-01"}, headers=actors.editor)
    ).json()
    assert back_then["cooperations"] == 1 and back_then["isolated_count"] == 4


async def test_suggestions_rank_actors_that_never_cooperated_by_the_documented_score(actors, graph):
    result = (
        await actors.client.get(f"/api/v1/actors/{graph['A']}/suggestions", headers=actors.editor)
    ).json()
    ranked = [(s["partner_name"], s["score"], s["surprising"]) for s in result["items"]]
    assert ranked == [
        ("Akteur B", pytest.approx(0.475), True),
        ("Akteur E", pytest.approx(0.35), True),
        ("Akteur D", pytest.approx(0.15 + 0.2 * (1.442695 / 2.442695), abs=1e-4), False),
    ]
    assert result["items"][0]["resource_matches"] == ["Akteur A bietet raeume, Akteur B braucht es"]
    assert "Adamic-Adar" in result["scoring"]


async def test_region_wide_suggestions_leave_out_pairs_that_cooperated_before(actors, graph):
    result = (
        await actors.client.get("/api/v1/network/suggestions", params={"limit": 100}, headers=actors.editor)
    ).json()
    pairs = {frozenset((s["actor_id"], s["partner_id"])) for s in result["items"]}
    assert frozenset((graph["B"], graph["F"])) not in pairs
    assert frozenset((graph["A"], graph["C"])) not in pairs
    assert frozenset((graph["A"], graph["B"])) in pairs
    surprising = (
        await actors.client.get(
            "/api/v1/network/suggestions", params={"surprising_only": "true"}, headers=actors.editor
        )
    ).json()
    assert surprising["items"] and all(s["surprising"] for s in surprising["items"])


async def test_the_network_exports_as_graphml_gexf_csv_and_json(actors, graph):
    async def export(fmt: str):  # type: ignore[no-untyped-def]
        response = await actors.client.get(
            "/api/v1/network/export", params={"format": fmt}, headers=actors.editor
        )
        assert response.status_code == 200, response.text
        return response

    ns = {"m": "http://graphml.graphdrawing.org/xmlns", "g": "http://gexf.net/1.3"}
    graphml = ET.fromstring((await export("graphml")).content)
    nodes = {n.get("id"): n for n in graphml.iterfind("m:graph/m:node", ns)}
    assert len(nodes) == 6 and len(graphml.findall("m:graph/m:edge", ns)) == 3
    assert nodes[graph["A"]].findtext("m:data[@key='node_label']", namespaces=ns) == "Akteur A"
    gexf = await export("gexf")
    assert gexf.headers["content-type"].startswith("application/gexf+xml")
    dynamic = ET.fromstring(gexf.content).find("g:graph", ns)
    assert dynamic is not None and (dynamic.get("mode"), dynamic.get("timeformat")) == ("dynamic", "date")
    # the whole history: B–F (2020–2021) is an edge of the timeline with its period
    spells = {
        frozenset((e.get("source"), e.get("target"))): [
            (s.get("start"), s.get("end")) for s in e.iterfind("g:spells/g:spell", ns)
        ]
        for e in dynamic.iterfind("g:edges/g:edge", ns)
    }
    assert spells[frozenset((graph["B"], graph["F"]))] == [("2020-01-01", "2021-01-01")]
    assert spells[frozenset((graph["A"], graph["C"]))] == [("2024-01-01", None)]
    edges = list(csv.DictReader(io.StringIO((await export("csv")).text)))
    assert len(edges) == 3 and {e["cross_sector"] for e in edges} == {"true", "false"}
    document = json.loads((await export("json")).text)
    assert len(document["nodes"]) == 6 and len(document["links"]) == 3


async def test_network_analysis_needs_a_token_of_the_region(actors, graph, assert_problem):
    assert_problem(await actors.client.get("/api/v1/network/metrics"), 401)
    assert_problem(
        await actors.client.get("/api/v1/network/export", params={"format": "pdf"}, headers=actors.editor),
        422,
        "format",
    )
