"""The indicator catalogue: every indicator's id, German label, definition, unit and source events.

Pure data; the figures are computed in ``indicators.py`` (queries) and ``domain.py`` (rules).
"""

from dataclasses import dataclass
from typing import Literal

from nzr_common.contracts.subjects import (
    ACTOR_REGISTERED,
    ACTOR_REMOVED,
    ACTOR_UPDATED,
    AGREEMENT_RECORDED,
    AGREEMENT_STATUS_CHANGED,
    ATTENDANCE_RECORDED,
    CAMPAIGN_SENT,
    COOPERATION_ENDED,
    COOPERATION_RECORDED,
    EVENT_CANCELLED,
    EVENT_COMPLETED,
    EVENT_PUBLISHED,
    EVENT_UPDATED,
    FUNDING_MATCH_REQUESTED,
    FUNDING_SEARCH_PERFORMED,
    LIST_REACH_CHANGED,
    SUBSCRIPTION_CONFIRMED,
    UNSUBSCRIBED,
)

Kind = Literal["bestand", "zugang", "anteil"]

ACTOR_EVENTS = tuple(s.event_type for s in (ACTOR_REGISTERED, ACTOR_UPDATED, ACTOR_REMOVED))
COOPERATION_EVENTS = tuple(s.event_type for s in (COOPERATION_RECORDED, COOPERATION_ENDED))
GATHERING_EVENTS = tuple(s.event_type for s in (EVENT_COMPLETED, EVENT_CANCELLED, ATTENDANCE_RECORDED))
AGREEMENT_EVENTS = tuple(s.event_type for s in (AGREEMENT_RECORDED, AGREEMENT_STATUS_CHANGED))
REACH_EVENTS = tuple(s.event_type for s in (SUBSCRIPTION_CONFIRMED, UNSUBSCRIBED, LIST_REACH_CHANGED))

COOPERATION_DISTRICTS = (
    "Je Kreis: Kooperationen mit mindestens einem Partner im Kreis (eine kreisübergreifende "
    "Kooperation zählt in beiden Kreisen)."
)
AGREEMENT_DISTRICTS = (
    "Gezählt ab dem Beginn der Veranstaltung, auf der die Vereinbarung getroffen wurde (sonst ab "
    "ihrer Erfassung). Je Kreis: nach dem Kreis dieser Veranstaltung."
)


@dataclass(frozen=True)
class IndicatorDefinition:
    """What an indicator measures. ``kind``: a stock as of a day (``bestand``), a count within
    the calendar month (``zugang``) or a ratio of two figures (``anteil``)."""

    id: str
    label: str
    definition: str
    unit: str
    theme: str
    kind: Kind
    source_events: tuple[str, ...]
    breakdowns: tuple[str, ...] = ()
    by_district: bool = False
    headline: bool = False
    higher_is_better: bool = True


INDICATORS: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        "actors_total",
        "Akteure im Netzwerk",
        "Anzahl der registrierten und nicht entfernten Akteure (Organisationen) am Stichtag.",
        "Anzahl",
        "Akteure",
        "bestand",
        ACTOR_EVENTS,
        breakdowns=("district", "kind", "sector", "topic"),
        by_district=True,
        headline=True,
    ),
    IndicatorDefinition(
        "actor_density_per_10k",
        "Akteursdichte je 10.000 Einwohner",
        "Akteure am Stichtag je 10.000 Einwohnerinnen und Einwohner des Kreises bzw. der vom "
        "Netzwerk abgedeckten Kreise (Bevölkerung: Destatis, Gebietsstand 31.12.2023).",
        "Akteure je 10.000 Einwohner",
        "Akteure",
        "anteil",
        ACTOR_EVENTS,
        breakdowns=("district",),
        by_district=True,
        headline=True,
    ),
    IndicatorDefinition(
        "cooperations_active",
        "Bestehende Kooperationen",
        "Anzahl der Kooperationen zwischen Akteuren, die am Stichtag begonnen und nicht beendet sind. "
        + COOPERATION_DISTRICTS,
        "Anzahl",
        "Kooperation",
        "bestand",
        COOPERATION_EVENTS,
        headline=True,
        by_district=True,
    ),
    IndicatorDefinition(
        "cooperations_new",
        "Neue Kooperationen im Monat",
        "Anzahl der Kooperationen, die im Kalendermonat des Stichtags (bis zum Stichtag) begonnen haben. "
        + COOPERATION_DISTRICTS,
        "Anzahl je Monat",
        "Kooperation",
        "zugang",
        COOPERATION_EVENTS,
        by_district=True,
    ),
    IndicatorDefinition(
        "cross_sector_share",
        "Anteil sektorübergreifender Kooperationen",
        "Anteil der bestehenden Kooperationen zwischen Akteuren verschiedener Sektoren "
        "(Zivilgesellschaft, Wirtschaft, Verwaltung/Politik, Bildung/Wissenschaft) an allen "
        "bestehenden Kooperationen. " + COOPERATION_DISTRICTS,
        "Prozent",
        "Kooperation",
        "anteil",
        COOPERATION_EVENTS,
        headline=True,
        by_district=True,
    ),
    IndicatorDefinition(
        "network_density",
        "Netzwerkdichte",
        "Verschiedene Paare von Akteuren mit mindestens einer am Stichtag laufenden Kooperation "
        "geteilt durch die Zahl möglicher Paare (P / (A·(A−1)/2)), in Prozent; mehrere Kooperationen "
        "desselben Paares zählen einmal. Eine Kooperation läuft von ihrem Beginn bis einschließlich "
        "ihres letzten Tages. Dieselbe Definition wie die Netzwerkdichte der Akteursanalyse "
        "(dort als Anteil statt in Prozent). Je Kreis: Paare von Akteuren desselben Kreises je "
        "mögliche Paare der Akteure des Kreises.",
        "Prozent",
        "Kooperation",
        "anteil",
        ACTOR_EVENTS + COOPERATION_EVENTS,
        by_district=True,
    ),
    IndicatorDefinition(
        "cooperations_from_gatherings",
        "Kooperationen aus Veranstaltungs-Vereinbarungen",
        "Anzahl der bis zum Stichtag entstandenen Kooperationen, die auf eine Vereinbarung einer "
        "Veranstaltung zurückgehen.",
        "Anzahl",
        "Kooperation",
        "bestand",
        (COOPERATION_RECORDED.event_type,),
    ),
    IndicatorDefinition(
        "gatherings_held",
        "Durchgeführte Veranstaltungen",
        "Anzahl der abgeschlossenen Veranstaltungen (Kick-off, Workshop, Netzwerk- und "
        "Regionalkonferenz, Initiativkreis, Jour fixe, Fachtag), gezählt am Tag ihres Beginns "
        "bis zum Stichtag (nicht am Tag des Abschließens).",
        "Anzahl",
        "Veranstaltungen",
        "bestand",
        GATHERING_EVENTS,
        breakdowns=("district", "format"),
        by_district=True,
        headline=True,
    ),
    IndicatorDefinition(
        "participants_total",
        "Teilnehmende an Veranstaltungen",
        "Summe der Teilnehmenden aller abgeschlossenen Veranstaltungen, die bis zum Stichtag "
        "begonnen haben (gezählt am Tag ihres Beginns).",
        "Personen (Teilnahmen)",
        "Veranstaltungen",
        "bestand",
        GATHERING_EVENTS,
        breakdowns=("district", "format"),
        by_district=True,
    ),
    IndicatorDefinition(
        "agreements_total",
        "Vereinbarungen",
        "Anzahl der auf Veranstaltungen getroffenen Vereinbarungen am Stichtag, nach Status. "
        + AGREEMENT_DISTRICTS,
        "Anzahl",
        "Veranstaltungen",
        "bestand",
        AGREEMENT_EVENTS,
        breakdowns=("status",),
        by_district=True,
    ),
    IndicatorDefinition(
        "agreements_implementation_rate",
        "Umsetzungsquote der Vereinbarungen",
        "Anteil der umgesetzten Vereinbarungen an allen nicht verworfenen Vereinbarungen am Stichtag. "
        + AGREEMENT_DISTRICTS,
        "Prozent",
        "Veranstaltungen",
        "anteil",
        AGREEMENT_EVENTS,
        headline=True,
        by_district=True,
    ),
    IndicatorDefinition(
        "newsletter_subscribers",
        "Newsletter-Abonnements",
        "Bestätigte Abonnements (Double-Opt-in) aller Verteiler am Stichtag.",
        "Anzahl",
        "Newsletter",
        "bestand",
        REACH_EVENTS,
        headline=True,
    ),
    IndicatorDefinition(
        "campaign_reach",
        "Reichweite der Newsletter-Kampagnen",
        "Summe der zugestellten E-Mails aller bis zum Stichtag versandten Kampagnen.",
        "zugestellte E-Mails",
        "Newsletter",
        "bestand",
        (CAMPAIGN_SENT.event_type,),
    ),
    IndicatorDefinition(
        "funding_searches",
        "Fördermittelsuchen",
        "Anzahl der bis zum Stichtag durchgeführten Suchen im Förderprogramm-Katalog.",
        "Anzahl",
        "Förderung",
        "bestand",
        (FUNDING_SEARCH_PERFORMED.event_type,),
    ),
    IndicatorDefinition(
        "funding_matches",
        "Förder-Matchings",
        "Anzahl der bis zum Stichtag durchgeführten Abgleiche von Akteursprofilen mit Förderprogrammen.",
        "Anzahl",
        "Förderung",
        "bestand",
        (FUNDING_MATCH_REQUESTED.event_type,),
        breakdowns=("district",),
        by_district=True,
    ),
    # Bildungskommune: education for sustainable development (BNE, topic code ``bne``).
    IndicatorDefinition(
        "bne_gatherings_held",
        "BNE-Veranstaltungen",
        "Anzahl der abgeschlossenen Veranstaltungen zum Thema Bildung für nachhaltige Entwicklung "
        "(Themenkennzeichen „bne“), gezählt am Tag ihres Beginns bis zum Stichtag.",
        "Anzahl",
        "Bildung für nachhaltige Entwicklung",
        "bestand",
        (*GATHERING_EVENTS, EVENT_PUBLISHED.event_type, EVENT_UPDATED.event_type),
        breakdowns=("district", "format"),
        by_district=True,
    ),
    IndicatorDefinition(
        "bne_participants",
        "Teilnehmende an BNE-Veranstaltungen",
        "Summe der Teilnehmenden der BNE-Veranstaltungen bis zum Stichtag; nach Zielgruppe "
        "(Schülerinnen und Schüler, Lehrkräfte, Erwachsene, Multiplikatorinnen und Multiplikatoren) "
        "aus den bei der Anwesenheit erfassten Zahlen, der Rest als „ohne Angabe“.",
        "Personen (Teilnahmen)",
        "Bildung für nachhaltige Entwicklung",
        "bestand",
        (*GATHERING_EVENTS, EVENT_PUBLISHED.event_type, EVENT_UPDATED.event_type),
        breakdowns=("district", "format", "target_group"),
        by_district=True,
    ),
    IndicatorDefinition(
        "education_institutions",
        "Bildungseinrichtungen im Netzwerk",
        "Akteure der Art Bildungseinrichtung (Schulen, Kitas, Hochschulen, Einrichtungen der "
        "Erwachsenenbildung) am Stichtag, je Kreis.",
        "Anzahl",
        "Bildung für nachhaltige Entwicklung",
        "bestand",
        ACTOR_EVENTS,
        breakdowns=("district",),
        by_district=True,
    ),
    IndicatorDefinition(
        "cooperations_with_education",
        "Kooperationen mit Bildungseinrichtungen",
        "Am Stichtag bestehende Kooperationen, an denen mindestens eine Bildungseinrichtung beteiligt ist.",
        "Anzahl",
        "Bildung für nachhaltige Entwicklung",
        "bestand",
        (*COOPERATION_EVENTS, *ACTOR_EVENTS),
    ),
)

BY_ID = {indicator.id: indicator for indicator in INDICATORS}

BREAKDOWN_LABELS = {
    "district": "Kreis",
    "target_group": "Zielgruppe",
    "kind": "Art",
    "sector": "Sektor",
    "topic": "Thema",
    "format": "Format",
    "status": "Status",
}
