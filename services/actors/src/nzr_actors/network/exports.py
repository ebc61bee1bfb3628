"""The cooperation network as GraphML, dynamic GEXF 1.3 (Gephi), CSV edge list and JSON (pure).

GraphML, CSV and JSON show the network on one date (cooperations active then). GEXF shows it
over time (``mode="dynamic"``, ``timeformat="date"``): each pair of actors is one edge whose
spells are the periods in which they cooperated (overlapping cooperations merged; an open end
while it runs), and each actor appears with the start of its first cooperation, so Gephi's
timeline plays the network's growth. Actors without any cooperation have no spell (always there).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from nzr_actors.network.analysis import Edge, Node

GEXF_NS = "http://gexf.net/1.3"
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
NODE_FIELDS = ("kind", "sector", "district", "subdistrict", "topics")


@dataclass(frozen=True)
class Pair:
    """The cooperations of one pair of actors, as an export edge."""

    source: str
    target: str
    cooperations: tuple[Edge, ...]

    @property
    def types(self) -> str:
        return ";".join(sorted({c.type for c in self.cooperations}))

    @property
    def since(self) -> date:
        return min(c.since for c in self.cooperations)


def pairs_of(nodes: list[Node], edges: list[Edge], *, on: date | None) -> list[Pair]:
    """Pairs of ``nodes`` with their cooperations (those active on ``on``; all when None)."""
    members = {n.id for n in nodes}
    grouped: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in edges:
        if e.actor_a in members and e.actor_b in members and (on is None or e.active_on(on)):
            grouped[(min(e.actor_a, e.actor_b), max(e.actor_a, e.actor_b))].append(e)
    return [
        Pair(a, b, tuple(sorted(c, key=lambda e: (e.since, e.id)))) for (a, b), c in sorted(grouped.items())
    ]


def _node_values(node: Node) -> dict[str, str]:
    return {
        "kind": node.kind,
        "sector": node.sector,
        "district": node.district,
        "subdistrict": node.subdistrict or "",
        "topics": ";".join(node.topics),
    }


def _cross_sector(pair: Pair, sectors: dict[str, str]) -> bool:
    return sectors[pair.source] != sectors[pair.target]


def spells(cooperations: tuple[Edge, ...]) -> list[tuple[date, date | None]]:
    """The periods in which at least one of the cooperations ran (``until`` is a last day)."""
    merged: list[tuple[date, date | None]] = []
    for c in sorted(cooperations, key=lambda e: e.since):
        if merged:
            start, end = merged[-1]
            if end is None or c.since <= end + timedelta(days=1):
                later = None if end is None or c.until is None else max(end, c.until)
                merged[-1] = (start, later)
                continue
        merged.append((c.since, c.until))
    return merged


def to_graphml(nodes: list[Node], edges: list[Edge], *, on: date) -> bytes:
    """GraphML of the network on ``on``: node ids are actor ids, labels their names."""
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    keys = [("label", "node", "string"), *((f, "node", "string") for f in NODE_FIELDS)]
    keys += [
        ("weight", "edge", "int"),
        ("types", "edge", "string"),
        ("since", "edge", "string"),
        ("cross_sector", "edge", "boolean"),
    ]
    for name, scope, kind in keys:
        ET.SubElement(
            root,
            f"{{{GRAPHML_NS}}}key",
            {"id": f"{scope}_{name}", "for": scope, "attr.name": name, "attr.type": kind},
        )
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", {"edgedefault": "undirected"})
    for node in sorted(nodes, key=lambda n: n.id):
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", {"id": node.id})
        for name, value in {"label": node.name, **_node_values(node)}.items():
            ET.SubElement(element, f"{{{GRAPHML_NS}}}data", {"key": f"node_{name}"}).text = value
    sectors = {n.id: n.sector for n in nodes}
    for pair in pairs_of(nodes, edges, on=on):
        element = ET.SubElement(
            graph, f"{{{GRAPHML_NS}}}edge", {"source": pair.source, "target": pair.target}
        )
        values = {
            "weight": str(len(pair.cooperations)),
            "types": pair.types,
            "since": pair.since.isoformat(),
            "cross_sector": str(_cross_sector(pair, sectors)).lower(),
        }
        for name, value in values.items():
            ET.SubElement(element, f"{{{GRAPHML_NS}}}data", {"key": f"edge_{name}"}).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_gexf(nodes: list[Node], edges: list[Edge], *, today: date) -> bytes:
    """Dynamic GEXF 1.3 of the network's whole history (see the module docstring)."""
    ET.register_namespace("", GEXF_NS)

    def sub(parent: ET.Element, tag: str, attributes: dict[str, str] | None = None) -> ET.Element:
        return ET.SubElement(parent, f"{{{GEXF_NS}}}{tag}", attributes or {})

    root = ET.Element(f"{{{GEXF_NS}}}gexf", {"version": "1.3"})
    meta = sub(root, "meta", {"lastmodifieddate": today.isoformat()})
    sub(meta, "creator").text = "Netzwerk Zukunft Regional"
    sub(meta, "description").text = "Kooperationsnetzwerk: Akteure und ihre Kooperationen im Zeitverlauf"
    graph = sub(
        root,
        "graph",
        {
            "defaultedgetype": "undirected",
            "mode": "dynamic",
            "timeformat": "date",
            "timerepresentation": "interval",
        },
    )
    node_attributes = sub(graph, "attributes", {"class": "node", "mode": "static"})
    for name in NODE_FIELDS:
        sub(node_attributes, "attribute", {"id": name, "title": name, "type": "string"})
    edge_attributes = sub(graph, "attributes", {"class": "edge", "mode": "static"})
    sub(edge_attributes, "attribute", {"id": "types", "title": "types", "type": "string"})
    sub(edge_attributes, "attribute", {"id": "cross_sector", "title": "cross_sector", "type": "boolean"})
    pairs = pairs_of(nodes, edges, on=None)
    first: dict[str, date] = {}
    for pair in pairs:
        for actor in (pair.source, pair.target):
            first[actor] = min(first.get(actor, pair.since), pair.since)
    node_list = sub(graph, "nodes", {"count": str(len(nodes))})
    for node in sorted(nodes, key=lambda n: n.id):
        element = sub(node_list, "node", {"id": node.id, "label": node.name})
        values = sub(element, "attvalues")
        for name, value in _node_values(node).items():
            sub(values, "attvalue", {"for": name, "value": value})
        if node.id in first:
            sub(sub(element, "spells"), "spell", {"start": first[node.id].isoformat()})
    sectors = {n.id: n.sector for n in nodes}
    edge_list = sub(graph, "edges", {"count": str(len(pairs))})
    for number, pair in enumerate(pairs):
        element = sub(
            edge_list,
            "edge",
            {
                "id": str(number),
                "source": pair.source,
                "target": pair.target,
                "weight": str(len(pair.cooperations)),
            },
        )
        values = sub(element, "attvalues")
        sub(values, "attvalue", {"for": "types", "value": pair.types})
        sub(values, "attvalue", {"for": "cross_sector", "value": str(_cross_sector(pair, sectors)).lower()})
        periods = sub(element, "spells")
        for start, end in spells(pair.cooperations):
            sub(periods, "spell", {"start": start.isoformat(), **({"end": end.isoformat()} if end else {})})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_csv(nodes: list[Node], edges: list[Edge], *, on: date) -> bytes:
    """The edge list on ``on``: one row per cooperating pair."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["source", "target", "source_name", "target_name", "types", "since", "cooperations", "cross_sector"]
    )
    names = {n.id: n.name for n in nodes}
    sectors = {n.id: n.sector for n in nodes}
    for pair in pairs_of(nodes, edges, on=on):
        writer.writerow(
            [
                pair.source,
                pair.target,
                names[pair.source],
                names[pair.target],
                pair.types,
                pair.since.isoformat(),
                len(pair.cooperations),
                str(_cross_sector(pair, sectors)).lower(),
            ]
        )
    return buffer.getvalue().encode()


def to_json(nodes: list[Node], edges: list[Edge], *, on: date) -> bytes:
    """Node-link JSON (``nodes`` and ``links``) of the network on ``on``."""
    sectors = {n.id: n.sector for n in nodes}
    document = {
        "directed": False,
        "multigraph": False,
        "graph": {"on": on.isoformat()},
        "nodes": [
            {"id": n.id, "label": n.name, **_node_values(n)} for n in sorted(nodes, key=lambda n: n.id)
        ],
        "links": [
            {
                "source": p.source,
                "target": p.target,
                "weight": len(p.cooperations),
                "types": p.types,
                "since": p.since.isoformat(),
                "cross_sector": _cross_sector(p, sectors),
            }
            for p in pairs_of(nodes, edges, on=on)
        ],
    }
    return json.dumps(document, ensure_ascii=False).encode()
