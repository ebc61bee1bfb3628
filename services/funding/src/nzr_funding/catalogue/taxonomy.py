"""The search dimensions and their labels (Förderdatenbank taxonomy plus the network's own),
and the district names records are checked against; read once from the reference data."""

from __future__ import annotations

from functools import cache

from nzr_common.regions import load_districts
from nzr_funding.catalogue.schemas import (
    Taxonomy,
    TaxonomyDimension,
    TaxonomyValue,
)
from nzr_funding.reference import load_taxonomy

#: search parameter → (taxonomy facet, programme field)
DIMENSIONS = {
    "funding_type": ("foerderart", "funding_types"),
    "area": ("foerderbereich", "areas"),
    "territory": ("foerdergebiet", "territories"),
    "eligible": ("foerderberechtigte", "eligible"),
}
LEVEL_LABELS = {"bund": "Bund", "land": "Land", "eu": "EU", "stiftung": "Stiftung / nichtstaatlich"}
STATE_LABELS = {"open": "offen", "upcoming": "demnächst", "closed": "geschlossen", "unknown": "unbekannt"}
TOPIC_LABELS = {
    "klimaschutz_energie": "Klimaschutz und Energie",
    "klimaanpassung": "Klimaanpassung",
    "mobilitaet": "Mobilität",
    "naturschutz_biodiversitaet": "Naturschutz und Biodiversität",
    "landwirtschaft_laendlicher_raum": "Landwirtschaft und ländlicher Raum",
    "nachhaltiges_wirtschaften": "Nachhaltiges Wirtschaften",
    "entwicklungszusammenarbeit": "Entwicklungszusammenarbeit",
    "bne_globales_lernen": "BNE und Globales Lernen",
    "demokratie_zivilgesellschaft": "Demokratie und Zivilgesellschaft",
    "ehrenamt_engagement": "Ehrenamt und Engagement",
    "grenzueberschreitende_zusammenarbeit": "Grenzüberschreitende Zusammenarbeit",
    "europa_jugend": "Europa und Jugend",
}


@cache
def taxonomy_keys() -> dict[str, frozenset[str]]:
    """Allowed keys per Förderdatenbank facet."""
    return {
        name: frozenset(v["key"] for v in facet["values"])
        for name, facet in load_taxonomy()["facets"].items()
    }


@cache
def value_labels() -> dict[str, dict[str, str]]:
    """Labels shown to people for every value of every search dimension."""
    facets = load_taxonomy()["facets"]
    labels = {
        param: {v["key"]: v["label"] for v in facets[facet]["values"]}
        for param, (facet, _) in DIMENSIONS.items()
    }
    labels["level"] = LEVEL_LABELS
    labels["topic"] = TOPIC_LABELS
    labels["state"] = STATE_LABELS
    return labels


def get_taxonomy() -> Taxonomy:
    """The filter dimensions with their values and labels, and where they come from."""
    document = load_taxonomy()
    dimensions = [
        TaxonomyDimension(
            parameter=param,
            label=document["facets"][facet]["label"],
            source="Förderdatenbank des Bundes",
            values=[TaxonomyValue(key=k, label=v) for k, v in value_labels()[param].items()],
        )
        for param, (facet, _) in DIMENSIONS.items()
    ]
    dimensions += [
        TaxonomyDimension(
            parameter="level",
            label="Ebene des Fördergebers",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in LEVEL_LABELS.items()],
        ),
        TaxonomyDimension(
            parameter="topic",
            label="Thema",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in TOPIC_LABELS.items()],
        ),
        TaxonomyDimension(
            parameter="state",
            label="Fristenstatus",
            source="Netzwerk Zukunft Regional",
            values=[TaxonomyValue(key=k, label=v) for k, v in STATE_LABELS.items()],
        ),
    ]
    return Taxonomy(
        source={
            **document["source"],
            "retrieved_on": document["retrieved_on"],
            "license_note": document["license_note"],
        },
        dimensions=dimensions,
    )


@cache
def district_names() -> dict[str, str]:
    """District names by AGS key."""
    return {ags: district.name for ags, district in load_districts().items()}
