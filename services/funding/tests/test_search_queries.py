"""What people type finds what they mean: 40 real queries against the 44 real programmes.

Expectations were written by reading the programmes (name, summary, funder, topics), not by
copying the search's output: each query names the programme(s) of which at least one must be
among the first three hits. Compounds, plurals, umlauts spelled out or left off, and typos.
"""

import pytest

SEARCH = "/api/v1/funding/programs"

CASES = [
    # compounds asked for by their parts, and parts asked for in compounds
    ("Klimaschutzförderung", {"bund-nki-kommunalrichtlinie", "bund-nki-klimaschutz-durch-radverkehr"}),
    ("Umweltbildungsprojekt", {"sn-lanu-umweltbildung-kooperationen"}),
    ("Umweltbildung", {"sn-lanu-umweltbildung-kooperationen"}),
    ("Radverkehrsförderung", {"bund-nki-klimaschutz-durch-radverkehr"}),
    ("Naturschutzfonds", {"stiftung-lanu-naturschutzfonds"}),
    ("Klimaanpassungskonzepte", {"bund-bmuv-anpaso"}),
    ("Demokratieförderung", {"sn-weltoffenes-sachsen", "bund-demokratie-leben-pfd-fonds"}),
    ("Jugendaustausch Polen", {"eu-interreg-pl-sn-kleinprojektefonds"}),
    ("Gemeindepartnerschaften Tschechien", {"stiftung-deutsch-tschechischer-zukunftsfonds"}),
    ("Klimaschutzkonzept Kommune", {"bund-nki-kommunalrichtlinie"}),
    ("Dachbegrünung", {"sn-frl-stadtgruen-laerm-radon"}),
    ("Fassadenbegrünung", {"sn-frl-stadtgruen-laerm-radon"}),
    ("Nachhaltigkeitsbildung", {"stiftung-dbu-projektfoerderung"}),
    ("Kleinprojektefonds Tschechien", {"eu-interreg-sn-cz-kleinprojektefonds"}),
    ("Schüleraustausch", {"eu-interreg-pl-sn-kleinprojektefonds"}),
    ("Gemeinschaftsgarten", {"eu-esk-solidaritaetsprojekte"}),
    ("Starthilfe Bürgerinitiative", {"stiftung-mitarbeit-starthilfe"}),
    ("Energieeffizienz Kommunen", {"sn-frl-energie-und-klima", "bund-nki-kommunalrichtlinie"}),
    # plurals and inflections
    ("Kleinprojekte Polen", {"eu-interreg-pl-sn-kleinprojektefonds"}),
    ("Kommunaler Klimaschutz", {"bund-nki-kommunalrichtlinie"}),
    ("Bildungsveranstaltungen Schulen", {"bund-bmz-aktionsgruppenprogramm"}),
    ("Umweltschutz Verbände", {"bund-bmuv-verbaendefoerderung"}),
    ("Klimaanpassung Kitas", {"bund-bmuv-anpaso"}),
    ("Artenschutz Sachsen", {"sn-frl-natuerliches-erbe", "stiftung-lanu-naturschutzfonds"}),
    ("Erasmus Partnerschaften", {"eu-erasmus-kleinere-partnerschaften"}),
    ("Bildung für nachhaltige Entwicklung Kleinprojekte", {"sn-saela-bne-kleinprojekte"}),
    ("ländlicher Raum", {"bund-buleplus", "stiftung-amadeu-antonio", "sn-leader-2023-2027"}),
    ("Rechtsextremismus", {"stiftung-amadeu-antonio", "bund-zusammenhalt-durch-teilhabe"}),
    # umlauts and ß spelled out or left off
    ("Foerderung entwicklungspolitische Bildung", {"bund-bmz-feb"}),
    ("Solidaritaetsprojekte", {"eu-esk-solidaritaetsprojekte"}),
    ("Verbaendefoerderung", {"bund-bmuv-verbaendefoerderung"}),
    ("Stadtgruen", {"sn-frl-stadtgruen-laerm-radon"}),
    ("Weltoffenes Sachsen", {"sn-weltoffenes-sachsen"}),
    (
        "Grenzuebergreifende Zusammenarbeit Euroregion",
        {"sn-rl-internationale-zusammenarbeit-grenzuebergreifend"},
    ),
    # typos
    ("Klimschutz", {"bund-nki-kommunalrichtlinie", "bund-nki-klimaschutz-durch-radverkehr"}),
    ("Entwiklungszusammenarbeit Ausland", {"sn-kleinprojektefonds-ez-ausland"}),
    ("Radverkeher", {"bund-nki-klimaschutz-durch-radverkehr"}),
    ("Naturschutsfonds", {"stiftung-lanu-naturschutzfonds"}),
    ("Postcode Loterie", {"stiftung-postcode-lotterie"}),
    ("Aktionsgrupenprogramm", {"bund-bmz-aktionsgruppenprogramm"}),
]


def test_the_query_set_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
async def test_a_real_query_finds_the_programme_people_mean(seeded, query, expected):
    response = await seeded.client.get(SEARCH, params={"q": query, "as_of": "2026-11-21", "limit": 3})
    assert response.status_code == 200, response.text
    top = [hit["programme"]["id"] for hit in response.json()["items"]]
    assert set(top) & expected, f"{query!r}: top 3 {top}"
