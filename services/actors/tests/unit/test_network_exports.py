"""The exports, read back with the parsers a user's tool would use (ElementTree, csv, json)."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date

from nzr_actors.network import exports
from nzr_actors.network.analysis import Edge, Node

NS = {"g": exports.GEXF_NS}
NODES = [
    Node("a", "Akteur A", "verein", "zivilgesellschaft", "14612000", ("bne",), subdistrict="Neustadt"),
    Node("b", "Akteur B", "unternehmen", "wirtschaft", "14612000"),
    Node("c", "Akteur C", "kommune", "verwaltung_politik", "14612000"),
    Node("d", "Akteur D", "verein", "zivilgesellschaft", "14612000"),
]
EDGES = [
    Edge("1", "a", "b", "projekt", date(2020, 1, 1), date(2020, 12, 31)),
    Edge("2", "b", "a", "austausch", date(2020, 6, 1), date(2021, 3, 31)),
    Edge("3", "a", "b", "projekt", date(2023, 1, 1)),
    Edge("4", "b", "c", "vereinbarung", date(2022, 5, 1), date(2022, 9, 30)),
]


def test_gexf_is_dynamic_with_a_spell_per_cooperation_period_and_nodes_from_their_first_cooperation():
    root = ET.fromstring(exports.to_gexf(NODES, EDGES, today=date(2026, 1, 1)))
    assert root.tag == f"{{{exports.GEXF_NS}}}gexf" and root.get("version") == "1.3"
    graph = root.find("g:graph", NS)
    assert graph is not None
    assert (graph.get("mode"), graph.get("timeformat"), graph.get("defaultedgetype")) == (
        "dynamic",
        "date",
        "undirected",
    )
    nodes = {n.get("id"): n for n in graph.iterfind("g:nodes/g:node", NS)}
    assert set(nodes) == {"a", "b", "c", "d"}
    starts = {i: [s.get("start") for s in n.iterfind("g:spells/g:spell", NS)] for i, n in nodes.items()}
    assert starts == {"a": ["2020-01-01"], "b": ["2020-01-01"], "c": ["2022-05-01"], "d": []}
    values = {v.get("for"): v.get("value") for v in nodes["a"].iterfind("g:attvalues/g:attvalue", NS)}
    assert values["subdistrict"] == "Neustadt" and values["topics"] == "bne"
    edges = {(e.get("source"), e.get("target")): e for e in graph.iterfind("g:edges/g:edge", NS)}
    spells = {
        k: [(s.get("start"), s.get("end")) for s in e.iterfind("g:spells/g:spell", NS)]
        for k, e in edges.items()
    }
    # a–b: two overlapping cooperations merge into one period, then a new one that still runs.
    assert spells == {
        ("a", "b"): [("2020-01-01", "2021-03-31"), ("2023-01-01", None)],
        ("b", "c"): [("2022-05-01", "2022-09-30")],
    }
    assert edges[("a", "b")].get("weight") == "3"
    declared = {a.get("id") for a in graph.iterfind("g:attributes/g:attribute", NS)}
    used = {v.get("for") for v in graph.iterfind(".//g:attvalue", NS)}
    assert used <= declared


def test_graphml_csv_and_json_show_the_network_on_one_date():
    on = date(2022, 6, 1)
    root = ET.fromstring(exports.to_graphml(NODES, EDGES, on=on))
    ns = {"m": exports.GRAPHML_NS}
    assert [(e.get("source"), e.get("target")) for e in root.iterfind("m:graph/m:edge", ns)] == [("b", "c")]
    assert len(root.findall("m:graph/m:node", ns)) == 4
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(NODES, EDGES, on=date(2020, 7, 1)).decode())))
    assert [(r["source"], r["target"], r["cooperations"], r["types"]) for r in rows] == [
        ("a", "b", "2", "austausch;projekt")
    ]
    document = json.loads(exports.to_json(NODES, EDGES, on=on))
    assert {n["id"] for n in document["nodes"]} == {"a", "b", "c", "d"}
    assert [(link["source"], link["target"], link["cross_sector"]) for link in document["links"]] == [
        ("b", "c", True)
    ]
