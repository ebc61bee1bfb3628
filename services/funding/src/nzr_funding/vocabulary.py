"""The vocabulary the funding rules share: levels, topics, actor kinds, states."""

from __future__ import annotations

from collections.abc import Iterable

from nzr_funding.i18n import Message

LEVELS = ("bund", "land", "eu", "stiftung")

#: The network's own topic tags on programmes (not part of the Förderdatenbank).
FUNDING_TOPICS = (
    "klimaschutz_energie",
    "klimaanpassung",
    "mobilitaet",
    "naturschutz_biodiversitaet",
    "landwirtschaft_laendlicher_raum",
    "nachhaltiges_wirtschaften",
    "entwicklungszusammenarbeit",
    "bne_globales_lernen",
    "demokratie_zivilgesellschaft",
    "ehrenamt_engagement",
    "grenzueberschreitende_zusammenarbeit",
    "europa_jugend",
)

#: Topics of actor profiles (actors service) → the programme topics they correspond to.
ACTOR_TOPICS = {
    "energie_klimaschutz": ("klimaschutz_energie", "klimaanpassung"),
    "mobilitaet": ("mobilitaet",),
    "landwirtschaft_ernaehrung": ("landwirtschaft_laendlicher_raum",),
    "nachhaltiges_wirtschaften": ("nachhaltiges_wirtschaften",),
    "entwicklungszusammenarbeit": ("entwicklungszusammenarbeit",),
    "bne": ("bne_globales_lernen",),
    "demokratie_teilhabe": ("demokratie_zivilgesellschaft", "ehrenamt_engagement"),
    "natur_umwelt": ("naturschutz_biodiversitaet", "klimaanpassung"),
    "soziales": ("ehrenamt_engagement",),
    "kultur": ("europa_jugend",),
}

#: Actor kind → the Förderberechtigte keys under which it applies (Förderdatenbank convention:
#: associations, foundations and church bodies are "Verband/Vereinigung").
KIND_TO_ELIGIBLE: dict[str, tuple[str, ...]] = {
    "verein": ("verband_vereinigung",),
    "initiative": ("verband_vereinigung", "privatperson"),
    "kommune": ("kommune", "oeffentliche_einrichtung"),
    "unternehmen": ("unternehmen",),
    "bildungseinrichtung": ("bildungseinrichtung",),
    "religionsgemeinschaft": ("verband_vereinigung",),
    "stiftung": ("verband_vereinigung",),
    "verwaltung": ("oeffentliche_einrichtung", "kommune"),
    "sonstige": (),
}

#: Legal forms of actors (contract ``LegalForm``) with their labels (message ids; German in the
#: catalogue).
LEGAL_FORMS = {
    "ev": "registered association (e. V.)",
    "ggmbh": "non-profit limited company (gGmbH)",
    "gmbh": "limited company (GmbH)",
    "ug": "entrepreneurial company (UG)",
    "eg": "registered cooperative (eG)",
    "stiftung": "foundation",
    "kdoer": "public-law body (KdöR)",
    "gbr": "civil-law partnership (GbR)",
    "einzelunternehmen": "sole proprietorship",
    "keine": "no legal form of its own",
}

#: The legal forms an actor kind can have, where its kind alone says it (a municipality or an
#: administration is a public-law body, never a registered association).
KIND_LEGAL_FORMS: dict[str, frozenset[str]] = {
    "kommune": frozenset({"kdoer"}),
    "verwaltung": frozenset({"kdoer"}),
}

#: Federal states whose territory counts as "ostdeutsche Bundesländer und Berlin".
EAST_GERMAN_STATES = (
    "berlin",
    "brandenburg",
    "mecklenburg_vorpommern",
    "sachsen",
    "sachsen_anhalt",
    "thueringen",
)
HOME_STATE = "sachsen"


def legal_form_label(form: str) -> Message:
    """The label of a legal form, to render in the caller's language."""
    return Message(LEGAL_FORMS.get(form, form))


def funding_topics_of(actor_or_programme_topics: Iterable[str]) -> set[str]:
    """Programme topic keys for a mix of actor topics and programme topics."""
    result: set[str] = set()
    for topic in actor_or_programme_topics:
        if topic in ACTOR_TOPICS:
            result.update(ACTOR_TOPICS[topic])
        else:
            result.add(topic)
    return result
