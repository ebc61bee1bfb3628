"""The platform's own code lists with their German labels: topics, actor kinds, sectors, legal forms.

The codes are what APIs and events carry; the labels are what people see. Topics are the
network's topic vocabulary (``TOPICS`` may replace it per deployment, see ``nzr_common.codes``);
kinds, sectors and legal forms are fixed by the contracts (``nzr_common.contracts.actors``).
"""

from __future__ import annotations

#: The network's topics (code → German label), in the order people read them.
TOPIC_LABELS: dict[str, str] = {
    "energie_klimaschutz": "Energie und Klimaschutz",
    "mobilitaet": "Mobilität",
    "landwirtschaft_ernaehrung": "Landwirtschaft und Ernährung",
    "nachhaltiges_wirtschaften": "Nachhaltiges Wirtschaften",
    "entwicklungszusammenarbeit": "Entwicklungszusammenarbeit",
    "bne": "Bildung für nachhaltige Entwicklung (BNE)",
    "demokratie_teilhabe": "Demokratie und Teilhabe",
    "natur_umwelt": "Natur und Umwelt",
    "soziales": "Soziales",
    "kultur": "Kultur",
}
#: The default topic codes (``TOPICS`` unset).
PLATFORM_TOPICS: tuple[str, ...] = tuple(TOPIC_LABELS)

KIND_LABELS: dict[str, str] = {
    "verein": "Verein",
    "initiative": "Initiative",
    "kommune": "Kommune",
    "unternehmen": "Unternehmen",
    "bildungseinrichtung": "Bildungseinrichtung",
    "religionsgemeinschaft": "Religionsgemeinschaft",
    "stiftung": "Stiftung",
    "verwaltung": "Verwaltung",
    "sonstige": "Sonstige",
}

SECTOR_LABELS: dict[str, str] = {
    "zivilgesellschaft": "Zivilgesellschaft",
    "wirtschaft": "Wirtschaft",
    "verwaltung_politik": "Verwaltung und Politik",
    "bildung_wissenschaft": "Bildung und Wissenschaft",
}

#: Legal forms (``LegalForm`` of the contracts) as German law names them.
LEGAL_FORM_LABELS: dict[str, str] = {
    "ev": "eingetragener Verein (e. V.)",
    "ggmbh": "gemeinnützige GmbH (gGmbH)",
    "gmbh": "Gesellschaft mit beschränkter Haftung (GmbH)",
    "ug": "Unternehmergesellschaft (haftungsbeschränkt)",
    "eg": "eingetragene Genossenschaft (eG)",
    "stiftung": "Stiftung",
    "kdoer": "Körperschaft des öffentlichen Rechts (KdöR)",
    "gbr": "Gesellschaft bürgerlichen Rechts (GbR)",
    "einzelunternehmen": "Einzelunternehmen",
    "keine": "keine eigene Rechtsform",
}

RESOURCE_LABELS: dict[str, str] = {
    "geld": "Geld",
    "sachleistung": "Sachleistung",
    "personal": "Personal",
    "raeume": "Räume",
    "wissen": "Wissen",
}
