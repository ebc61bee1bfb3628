"""The words of the dashboard page in German (default) and English (by ``Accept-Language``):
page chrome, and English labels of the catalogue's indicators, units and themes (German ones
come from the catalogue itself; an indicator without an English label keeps its German one)."""

from __future__ import annotations

from datetime import date

PAGE: dict[str, dict[str, str]] = {
    "de": {
        "title_region": "Netzwerk Zukunft Regional – Region {region}",
        "title_state": "Landesübersicht Netzwerk Zukunft Regional",
        "as_of": "Stichtag",
        "regions": "Regionen",
        "filters": "Auswahl",
        "region": "Region",
        "all_regions": "alle Regionen",
        "district": "Kreis",
        "all_districts": "alle Kreise",
        "from": "Von (Monat)",
        "to": "Bis (Monat)",
        "theme": "Thema",
        "all_themes": "alle Themen",
        "indicator": "Indikator für Karte und Diagramme",
        "show": "Anzeigen",
        "reset": "Auswahl zurücksetzen",
        "you_are_here": "Ansicht",
        "overview": "Übersicht",
        "map": "Karte",
        "map_of": "{indicator} nach Kreis",
        "tile_map": "Schematische Kachelkarte der Kreise (eine Kachel je Kreis, ungefähre Lage).",
        "no_data": "keine Daten",
        "legend": "Legende",
        "no_district_values": "Für diesen Indikator gibt es keine Werte je Kreis.",
        "key_figures": "Kennzahlen",
        "unit": "Einheit",
        "value": "Wert",
        "rank": "Rang",
        "regions_compared": "Regionen im Vergleich",
        "districts": "Kreise",
        "districts_of": "Kreise der Region {region}",
        "chart_series": "{indicator} – Monatswerte",
        "chart_districts": "{indicator} nach Kreis",
        "month": "Monat",
        "table_view": "Tabelle zum Diagramm",
        "table_view_map": "Tabelle zur Karte",
        "source": "Quelle",
        "source_text": "{publisher}, Ereignisdaten des Netzwerks Zukunft Regional",
        "population": "Bevölkerung",
        "map_basis": "Kartengrundlage",
        "status": "Stand",
        "freshness": "Datenaktualität",
        "last_event": "Letztes Ereignis",
        "goals": "Ziele und Fortschritt",
        "goals_regions": "Ziele der Regionen im Vergleich",
        "no_goals": "Keine messbaren Ziele erfasst.",
        "open_data": "Offene Daten",
        "licence": "Lizenz: Datenlizenz Deutschland – Namensnennung – 2.0",
        "charts": "Verlauf und Verteilung",
        "scroll_table": "Tabelle, seitlich verschiebbar",
        "indicator_column": "Indikator",
        "goal": "Ziel",
        "baseline": "Ausgangswert",
        "current": "Aktuell",
        "target": "Zielwert",
        "target_date": "Zieldatum",
        "progress": "Fortschritt (erwartet)",
        "measures": "Maßnahmen",
    },
    "en": {
        "title_region": "Netzwerk Zukunft Regional – region {region}",
        "title_state": "State overview Netzwerk Zukunft Regional",
        "as_of": "Reference date",
        "regions": "Regions",
        "filters": "Selection",
        "region": "Region",
        "all_regions": "all regions",
        "district": "District",
        "all_districts": "all districts",
        "from": "From (month)",
        "to": "To (month)",
        "theme": "Theme",
        "all_themes": "all themes",
        "indicator": "Indicator for map and charts",
        "show": "Show",
        "reset": "Reset selection",
        "you_are_here": "View",
        "overview": "Overview",
        "map": "Map",
        "map_of": "{indicator} by district",
        "tile_map": "Schematic tile map of the districts (one tile per district, approximate position).",
        "no_data": "no data",
        "legend": "Legend",
        "no_district_values": "This indicator has no values by district.",
        "key_figures": "Key figures",
        "unit": "Unit",
        "value": "Value",
        "rank": "rank",
        "regions_compared": "Regions compared",
        "districts": "Districts",
        "districts_of": "Districts of region {region}",
        "chart_series": "{indicator} – monthly values",
        "chart_districts": "{indicator} by district",
        "month": "Month",
        "table_view": "Table of the chart",
        "table_view_map": "Table of the map",
        "source": "Source",
        "source_text": "{publisher}, event data of Netzwerk Zukunft Regional",
        "population": "Population",
        "map_basis": "Map basis",
        "status": "As of",
        "freshness": "Data freshness",
        "last_event": "Last event",
        "goals": "Goals and progress",
        "goals_regions": "Goals of the regions compared",
        "no_goals": "No measurable goals recorded.",
        "open_data": "Open data",
        "licence": "Licence: Data licence Germany – attribution – 2.0",
        "charts": "Trend and distribution",
        "scroll_table": "table, scrolls sideways",
        "indicator_column": "Indicator",
        "goal": "Goal",
        "baseline": "Baseline",
        "current": "Current",
        "target": "Target",
        "target_date": "Target date",
        "progress": "Progress (expected)",
        "measures": "Measures",
    },
}

FRESHNESS = {
    "de": {"aktuell": "aktuell", "veraltet": "veraltet", "keine_daten": "keine Daten"},
    "en": {"aktuell": "current", "veraltet": "stale", "keine_daten": "no data"},
}

GOAL_STATES = {
    "de": {
        "erreicht": "erreicht",
        "im_plan": "im Plan",
        "gefaehrdet": "gefährdet",
        "verfehlt": "verfehlt",
        "ohne_daten": "ohne Daten",
    },
    "en": {
        "erreicht": "achieved",
        "im_plan": "on track",
        "gefaehrdet": "at risk",
        "verfehlt": "missed",
        "ohne_daten": "no data",
    },
}

INDICATOR_LABELS_EN = {
    "actors_total": "Actors in the network",
    "actor_density_per_10k": "Actor density per 10,000 inhabitants",
    "cooperations_active": "Active cooperations",
    "cooperations_new": "New cooperations in the month",
    "cross_sector_share": "Share of cross-sector cooperations",
    "network_density": "Network density",
    "cooperations_from_gatherings": "Cooperations from event agreements",
    "gatherings_held": "Events held",
    "participants_total": "Participants in events",
    "agreements_total": "Agreements",
    "agreements_implementation_rate": "Implementation rate of agreements",
    "newsletter_subscribers": "Newsletter subscriptions",
    "campaign_reach": "Reach of newsletter campaigns",
    "funding_searches": "Funding searches",
    "funding_matches": "Funding matches",
}

UNITS_EN = {
    "Anzahl": "count",
    "Anzahl je Monat": "count per month",
    "Prozent": "per cent",
    "Akteure je 10.000 Einwohner": "actors per 10,000 inhabitants",
    "Personen (Teilnahmen)": "persons (attendances)",
    "zugestellte E-Mails": "delivered e-mails",
}

THEMES_EN = {
    "Akteure": "Actors",
    "Kooperation": "Cooperation",
    "Veranstaltungen": "Events",
    "Newsletter": "Newsletter",
    "Förderung": "Funding",
}


def words(language: str) -> dict[str, str]:
    """The page's words in the language (German unless English)."""
    return PAGE.get(language, PAGE["de"])


def indicator_label(indicator_id: str, german: str, language: str) -> str:
    return INDICATOR_LABELS_EN.get(indicator_id, german) if language == "en" else german


def unit_label(unit: str, language: str) -> str:
    return UNITS_EN.get(unit, unit) if language == "en" else unit


def theme_label(theme: str, language: str) -> str:
    return THEMES_EN.get(theme, theme) if language == "en" else theme


def format_number(value: float | None, language: str) -> str:
    """1234.5 → '1.234,5' (German) or '1,234.5' (English); no value → '–' (never a misleading 0)."""
    if value is None:
        return "–"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    if language == "en":
        return text
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


def format_date(day: date, language: str) -> str:
    return day.isoformat() if language == "en" else day.strftime("%d.%m.%Y")
