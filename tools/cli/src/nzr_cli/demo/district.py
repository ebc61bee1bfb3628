"""A demo network of one district, generated deterministically (seeded random, names from parts).

Landkreis Mittelsachsen (AGS 14522000, from the packaged reference data) with 160 actors of
every kind, sector and legal form in 24 of its real municipalities, resources offered and
needed, four likely duplicates (spelling variants in a neighbouring municipality), about 300
cooperations from 2021 to 2026 of which a quarter have ended, and contact persons with their
recorded consent. The project has no municipality reference list: the municipality names below
are the real Gemeinden of the district, written by hand.

Items reference the actors of the ``district_actors`` step as ``{"$ref": "district_actors/<key>"}``;
the loader replaces each with the id the service gave that actor.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from functools import cache
from typing import Any

from nzr_common.regions import load_districts
from nzr_common.text import fold

DISTRICT = "14522000"
SEED = 2026
ACTOR_STEP = "district_actors"
MUNICIPALITIES = (
    "Freiberg", "Döbeln", "Mittweida", "Flöha", "Frankenberg/Sa.", "Hainichen", "Rochlitz",
    "Brand-Erbisdorf", "Oederan", "Roßwein", "Leisnig", "Waldheim", "Burgstädt", "Penig",
    "Geringswalde", "Hartha", "Großschirma", "Augustusburg", "Lichtenau", "Halsbrücke",
    "Striegistal", "Lunzenau", "Frauenstein", "Sayda",
)  # fmt: skip
SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Richter", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Krüger", "Hartmann",
    "Lange", "Werner", "Lehmann", "Köhler", "Herrmann", "Walther", "Böhme", "Seidel", "Günther",
)  # fmt: skip
FIRST_NAMES = (
    "Anna", "Lena", "Katrin", "Sabine", "Ulrike", "Marie", "Jana", "Steffi", "Thomas", "Jens",
    "Matthias", "Uwe", "Frank", "Felix", "Paul", "Tobias", "Heike", "Andreas", "Claudia", "Mirko",
)  # fmt: skip
STREAMS = ("Zschopau", "Striegis", "Mulde", "Flöha", "Chemnitz", "Bobritzsch")

# kind → (count, sector, legal forms, name patterns, topics to draw from, offers, needs)
# Patterns: {place} municipality, {stream} river, {surname} family name.
KINDS: dict[str, tuple[int, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], str, str]] = {
    "verein": (
        40, "zivilgesellschaft", ("ev",),
        ("Förderverein Grundschule {place} e.V.", "Heimatverein {place} e.V.",
         "Naturschutzverein {stream}tal e.V.", "Repair-Café {place} e.V.", "Kulturverein {place} e.V.",
         "Bürgerverein {place} e.V.", "Imkerverein {place} und Umgebung e.V.", "Eine-Welt-Laden {place} e.V.",
         "Sportverein Grün-Weiß {place} e.V.", "Verein für Umweltbildung {place} e.V."),
        ("natur_umwelt", "kultur", "soziales", "bne", "entwicklungszusammenarbeit", "demokratie_teilhabe"),
        "raeume wissen personal", "geld personal sachleistung",
    ),
    "initiative": (
        22, "zivilgesellschaft", ("keine", "keine", "gbr"),
        ("Lastenrad-Initiative {place}", "Foodsharing {place}", "Transition Town {place}",
         "Initiative Klimafreundliches {place}", "Parents for Future {place}", "Gemeinschaftsgarten {place}",
         "Offene Werkstatt {place}", "Mitfahrbank-Initiative {place}"),
        ("energie_klimaschutz", "mobilitaet", "landwirtschaft_ernaehrung", "natur_umwelt",
         "demokratie_teilhabe"),
        "wissen personal", "geld raeume sachleistung",
    ),
    "kommune": (
        14, "verwaltung_politik", ("kdoer",),
        ("Stadt {place}",),
        ("energie_klimaschutz", "mobilitaet", "demokratie_teilhabe", "soziales"),
        "raeume geld", "wissen personal",
    ),
    "unternehmen": (
        30, "wirtschaft", ("gmbh", "ug", "eg", "einzelunternehmen", "gbr"),
        ("Bürgerenergie {place} eG", "Solartechnik {surname} GmbH", "Tischlerei {surname}",
         "Bioland-Hof {surname} GbR", "Stadtwerke {place} GmbH", "Radhaus {place} UG (haftungsbeschränkt)",
         "Hofladen {surname}", "Agrargenossenschaft {place} eG", "Planungsbüro {surname} GmbH",
         "Unverpackt {place} UG (haftungsbeschränkt)"),
        ("energie_klimaschutz", "nachhaltiges_wirtschaften", "landwirtschaft_ernaehrung", "mobilitaet"),
        "geld sachleistung wissen", "personal raeume",
    ),
    "bildungseinrichtung": (
        20, "bildung_wissenschaft", ("keine",),
        ("Grundschule {place}", "Oberschule {place}", "Gymnasium {place}", "Bildungswerk {place} gGmbH",
         "Kita Sonnenschein {place}", "Musikschule {place} gGmbH"),
        ("bne", "natur_umwelt", "kultur", "energie_klimaschutz"),
        "raeume wissen", "geld wissen sachleistung",
    ),
    "religionsgemeinschaft": (
        8, "zivilgesellschaft", ("kdoer",),
        ("Ev.-Luth. Kirchgemeinde {place}", "Katholische Pfarrei St. Marien {place}"),
        ("soziales", "entwicklungszusammenarbeit", "natur_umwelt"),
        "raeume personal", "geld",
    ),
    "stiftung": (
        8, "zivilgesellschaft", ("stiftung",),
        ("Bürgerstiftung {place}", "Stiftung {surname} für Natur und Heimat", "Sparkassenstiftung {place}"),
        ("soziales", "kultur", "natur_umwelt", "bne"),
        "geld", "wissen",
    ),
    "verwaltung": (
        6, "verwaltung_politik", ("kdoer",),
        ("Landratsamt Mittelsachsen – Umweltamt", "Landratsamt Mittelsachsen – Klimaschutzmanagement",
         "Landratsamt Mittelsachsen – Kreisentwicklung", "Landratsamt Mittelsachsen – Amt für Schule",
         "Landratsamt Mittelsachsen – Verkehrsplanung", "Landratsamt Mittelsachsen – Sozialamt"),
        ("energie_klimaschutz", "mobilitaet", "bne", "soziales"),
        "wissen geld", "personal",
    ),
    "sonstige": (
        8, "wirtschaft", ("ggmbh", "keine", "ev"),
        ("Regionalmanagement {stream}tal", "LEADER-Aktionsgruppe {stream}tal", "Jugendhaus {place} gGmbH",
         "Tafel {place}", "Energieagentur {place} gGmbH"),
        ("nachhaltiges_wirtschaften", "soziales", "energie_klimaschutz", "demokratie_teilhabe"),
        "wissen personal", "geld raeume",
    ),
}  # fmt: skip
DESCRIPTIONS = {
    "verein": "Gemeinnütziger Verein mit {n} Mitgliedern; engagiert sich ehrenamtlich in {place}.",
    "initiative": "Offene Gruppe von rund {n} Engagierten in {place}, trifft sich monatlich.",
    "kommune": "Kommune im Landkreis Mittelsachsen; Ansprechpartner für Klimaschutz und Beteiligung.",
    "unternehmen": "Regionales Unternehmen mit {n} Beschäftigten in {place}.",
    "bildungseinrichtung": "Bildungsort in {place} mit rund {n} Lernenden; Schwerpunkt Projekte zur BNE.",
    "religionsgemeinschaft": "Gemeinde mit {n} Mitgliedern; Gemeinderäume stehen für Treffen offen.",
    "stiftung": "Fördert Vorhaben in {place} und Umgebung mit jährlich rund {n}.000 Euro.",
    "verwaltung": "Fachbereich des Landratsamts in Freiberg.",
    "sonstige": "Regionaler Träger mit {n} Mitarbeitenden, vernetzt Akteure in {place}.",
}
# (key prefix of the stored actor, how the second entry spells its name, its municipality)
DUPLICATES = (
    ("buergerenergie", (("Bürger", "Buerger"), (" eG", "")), "Halsbrücke"),
    ("repair-cafe", (("Repair-Café", "Repair Café"), (" e.V.", "")), "Oederan"),
    ("foerderverein-grundschule", (("Förderverein", "Förderverein der"), ("e.V.", "e. V.")), "Lichtenau"),
    ("naturschutzverein", (("tal e.V.", "-Tal"),), "Striegistal"),
)
COOPERATION_TYPES = ("projekt", "veranstaltung", "vereinbarung", "austausch", "ressourcen")
FIRST_DAY, LAST_DAY = date(2021, 1, 1), date(2026, 10, 31)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


@cache
def district_actors() -> tuple[dict[str, Any], ...]:
    """The district's actors as bodies of ``POST /api/v1/actors`` (plus ``key``), always the same."""
    assert DISTRICT in load_districts(), "the demo district must be in the reference data"
    rng = random.Random(SEED)
    actors: list[dict[str, Any]] = []
    used: set[str] = set()
    for kind, (count, sector, forms, patterns, topics, offers, needs) in KINDS.items():
        made = 0
        while made < count:
            place = (
                MUNICIPALITIES[made % len(MUNICIPALITIES)]
                if kind == "kommune"
                else rng.choice(MUNICIPALITIES)
            )
            pattern = patterns[made % len(patterns)]
            name = pattern.format(place=place, stream=rng.choice(STREAMS), surname=rng.choice(SURNAMES))
            if name in used:
                continue
            used.add(name)
            made += 1
            actors.append(_actor(rng, kind, sector, name, place, forms, topics, offers, needs))
    for prefix, respellings, place in DUPLICATES:
        original = next(a for a in actors if a["key"].startswith(prefix))
        name = original["name"]
        for old, new in respellings:
            name = name.replace(old, new)
        actors.append(
            dict(
                original,
                key=f"{original['key']}-doppelt",
                name=name,
                municipality=place,
                public_profile=False,
            )
        )
    return tuple(actors)


def _actor(
    rng: random.Random,
    kind: str,
    sector: str,
    name: str,
    place: str,
    forms: tuple[str, ...],
    topics: tuple[str, ...],
    offers: str,
    needs: str,
) -> dict[str, Any]:
    legal_form = next((f for f, marks in _FORM_MARKS.items() if any(m in name for m in marks)), None)
    resources = [
        {"kind": k, "direction": "offered", "description": _RESOURCE_TEXT[k]}
        for k in rng.sample(offers.split(), rng.randint(0, min(2, len(offers.split()))))
    ] + [
        {"kind": k, "direction": "needed", "description": _RESOURCE_TEXT[k]}
        for k in rng.sample(needs.split(), rng.randint(0, min(2, len(needs.split()))))
    ]
    return {
        "key": _slug(name),
        "name": name,
        "kind": kind,
        "sector": sector,
        "legal_form": legal_form or rng.choice(forms),
        "district": DISTRICT,
        "municipality": "Freiberg" if kind == "verwaltung" else place,
        "topics": rng.sample(topics, rng.randint(1, min(3, len(topics)))),
        "description": DESCRIPTIONS[kind].format(place=place, n=rng.randint(8, 240)),
        "resources": resources,
        "public_profile": rng.random() < 0.75,
    }


_FORM_MARKS = {
    "eg": (" eG",),
    "ggmbh": ("gGmbH",),
    "gmbh": (" GmbH",),
    "ug": ("UG (haftungsbeschränkt)",),
    "gbr": (" GbR",),
    "ev": ("e.V.",),
    "einzelunternehmen": ("Tischlerei", "Hofladen"),
    "stiftung": ("stiftung", "Stiftung"),
}
_RESOURCE_TEXT = {
    "geld": "Zuschüsse oder Eigenmittel für gemeinsame Vorhaben",
    "sachleistung": "Material, Technik oder Fahrzeuge zum Ausleihen",
    "personal": "Ehrenamtliche oder Mitarbeitende für einzelne Tage",
    "raeume": "Räume für Treffen und Veranstaltungen",
    "wissen": "Beratung und Erfahrung aus eigenen Projekten",
}


def _ref(key: str) -> dict[str, str]:
    return {"$ref": f"{ACTOR_STEP}/{key}"}


@cache
def district_cooperations(count: int = 300) -> tuple[dict[str, Any], ...]:
    """Cooperations between the district's actors (bodies of ``POST /api/v1/cooperations``).

    Pairs are drawn so that the network looks like one: actors cooperate more often in their own
    municipality and with actors that already have partners (a few hubs), a handful stay
    isolated, and every pair cooperates at most once.
    """
    rng = random.Random(SEED + 1)
    actors = [a for a in district_actors() if not a["key"].endswith("-doppelt")]
    isolated = {a["key"] for a in rng.sample(actors, 8)}
    active = [a for a in actors if a["key"] not in isolated]
    degree = {a["key"]: 1 for a in active}
    pairs: set[frozenset[str]] = set()
    cooperations: list[dict[str, Any]] = []
    while len(cooperations) < count:
        a = rng.choices(active, weights=[degree[x["key"]] for x in active])[0]
        local = [x for x in active if x["municipality"] == a["municipality"] and x is not a]
        b = rng.choice(local) if local and rng.random() < 0.45 else rng.choice(active)
        pair = frozenset((a["key"], b["key"]))
        if a is b or pair in pairs:
            continue
        pairs.add(pair)
        degree[a["key"]] += 1
        degree[b["key"]] += 1
        since = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
        shared = sorted(set(a["topics"]) & set(b["topics"]))
        item: dict[str, Any] = {
            "key": f"kooperation-{len(cooperations) + 1:03d}",
            "actor_a": _ref(a["key"]),
            "actor_b": _ref(b["key"]),
            "type": rng.choice(COOPERATION_TYPES),
            "since": since.isoformat(),
            "description": f"{a['name']} und {b['name']}",
        }
        if shared:
            item["topic"] = rng.choice(shared)
        if rng.random() < 0.25 and since < LAST_DAY - timedelta(days=60):
            item["until"] = (
                since + timedelta(days=rng.randint(30, min(900, (LAST_DAY - since).days)))
            ).isoformat()
        cooperations.append(item)
    return tuple(cooperations)


@cache
def district_contacts(count: int = 40) -> tuple[dict[str, Any], ...]:
    """Contact persons of some actors with their recorded consent (``POST …/{actor_id}/contacts``)."""
    rng = random.Random(SEED + 2)
    contacts: list[dict[str, Any]] = []
    originals = [a for a in district_actors() if not a["key"].endswith("-doppelt")]
    for number, actor in enumerate(rng.sample(originals, count), start=1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        consented = date(2022, 1, 1) + timedelta(days=rng.randrange(1_400))
        contacts.append(
            {
                "key": f"kontakt-{number:03d}",
                "actor_id": _ref(actor["key"]),
                "name": f"{first} {last}",
                "email": f"{_slug(first)}.{_slug(last)}@{actor['key'][:40]}.example.org",
                "role": rng.choice(("Vorstand", "Geschäftsführung", "Koordination", "Ansprechperson Klima")),
                "consent_purpose": "Kontakt im Netzwerk Mittelsachsen (Einladungen, Rückfragen)",
                "consent_at": f"{consented.isoformat()}T18:00:00+01:00",
                "consent_source": rng.choice(
                    ("Anmeldeformular Netzwerktreffen", "Erfassungsbogen", "E-Mail")
                ),
            }
        )
    return tuple(contacts)
