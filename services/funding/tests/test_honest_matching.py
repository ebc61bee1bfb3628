"""Matching says only what is true: each criterion met / not met / unknown with its reason,
legal-form requirements checked, expected deadlines labelled as such; German by default,
English by Accept-Language (messages from the service's one gettext catalogue)."""

import pytest

MATCH = "/api/v1/funding/matches"
SEARCH = "/api/v1/funding/programs"
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
BNE = "sn-saela-bne-kleinprojekte"  # "eingetragener gemeinnütziger Vereine": e. V. required


async def criterion(seeded, programme_id: str, name: str, headers=None, **profile) -> dict:  # type: ignore[no-untyped-def]
    response = await seeded.client.post(
        MATCH, json={"as_of": "2026-11-21", "limit": 200, **profile}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    item = next(i for i in response.json()["items"] if i["programme_id"] == programme_id)
    return {**next(c for c in item["criteria"] if c["name"] == name), "item": item}


async def test_an_initiative_without_legal_form_is_not_eligible_where_an_ev_is_required(seeded):
    found = await criterion(
        seeded, BNE, "legal_form", kind="initiative", legal_form="keine", district="14612000"
    )
    assert found["status"] == "not_met" and found["status_label"] == "nicht erfüllt"
    assert found["label"] == "Rechtsform"
    assert found["reason"] == (
        "keine eigene Rechtsform erfüllt die geforderte Rechtsform nicht (eingetragener Verein (e. V.))"
    )
    assert found["item"]["fit"] == "excluded" and found["item"]["fit_label"].startswith("ausgeschlossen")


async def test_the_same_judgement_in_english_on_request(seeded):
    found = await criterion(
        seeded, BNE, "legal_form", headers=ENGLISH, kind="initiative", legal_form="keine", district="14612000"
    )
    assert found["status_label"] == "not met" and found["label"] == "legal form"
    assert found["reason"] == (
        "no legal form of its own does not meet the required legal form (registered association (e. V.))"
    )


async def test_a_missing_legal_form_is_unknown_not_met_for_a_registered_association(seeded):
    unknown = await criterion(seeded, BNE, "legal_form", kind="initiative")
    assert unknown["status"] == "unknown"
    assert unknown["reason"] == "Rechtsform nicht angegeben; gefordert: eingetragener Verein (e. V.)"
    met = await criterion(seeded, BNE, "legal_form", kind="verein", legal_form="ev")
    assert met["status"] == "met"
    # A municipality is a public-law body, never an e. V.: its kind says so without a legal form.
    municipality = await criterion(seeded, BNE, "legal_form", kind="kommune")
    assert municipality["status"] == "not_met"
    none_named = await criterion(seeded, "bund-nki-kommunalrichtlinie", "legal_form", kind="initiative")
    assert none_named["status"] == "met"
    assert none_named["reason"] == "die Quelle nennt keine Anforderung an die Rechtsform"


async def test_an_expected_deadline_is_labelled_as_expected_in_matching_and_search(seeded):
    # Solidaritätsprojekte: "mehrere Fristen pro Jahr (2024: 20.02., 07.05., 01.10.; …)".
    esk = "eu-esk-solidaritaetsprojekte"
    found = await criterion(seeded, esk, "deadline", kind="verein")
    assert found["item"]["deadline_certainty"] == "expected"
    assert found["reason"].startswith("voraussichtliche Frist 20.02.2027")
    assert "aus früheren Runden abgeleitet" in found["reason"]
    english = await criterion(seeded, esk, "deadline", headers=ENGLISH, kind="verein")
    assert english["reason"].startswith("expected deadline Feb 20, 2027")
    page = (
        await seeded.client.get(SEARCH, params={"q": "Solidaritätsprojekte", "as_of": "2026-11-21"})
    ).json()
    deadline = next(h for h in page["items"] if h["programme"]["id"] == esk)["programme"]["deadline"]
    assert deadline["certainty"] == "expected" and deadline["certainty_label"].startswith("voraussichtlich")
    fixed = (await seeded.client.get(f"{SEARCH}/bund-bmz-feb", headers=ENGLISH)).json()["deadline"]
    assert fixed["certainty"] == "fixed" and fixed["certainty_label"] == "fixed deadline"
    rolling = (await seeded.client.get(f"{SEARCH}/stiftung-dbu-projektfoerderung")).json()["deadline"]
    assert rolling["certainty"] == "rolling"


@pytest.mark.parametrize(
    ("path", "params", "field", "german", "english"),
    [
        (
            SEARCH,
            {"area": "raumfahrt"},
            "area",
            "unbekannte(r) Wert(e): raumfahrt",
            "unknown value(s): raumfahrt",
        ),
        (
            SEARCH,
            {"district": "09162000"},
            "district",
            "unbekannter Kreis: 09162000",
            "unknown district: 09162000",
        ),
        (
            SEARCH,
            {"topic": "astrologie"},
            "topic",
            "unbekannte(r) Wert(e): astrologie",
            "unknown value(s): astrologie",
        ),
    ],
)
async def test_an_unknown_code_in_a_search_is_a_422_naming_the_parameter(
    seeded, path, params, field, german, english
):
    for headers, reason in (({}, german), (ENGLISH, english)):
        response = await seeded.client.get(path, params=params, headers=headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert {"name": field, "reason": reason} in response.json()["invalid_params"]


@pytest.mark.parametrize(
    ("body", "field", "german"),
    [
        ({"legal_form": "verein"}, "legal_form", "„verein“ ist keine Rechtsform"),
        ({"kind": "partei"}, "kind", "„partei“ ist keine Akteursart"),
        ({"district": "Leipzig"}, "district", "„Leipzig“ ist kein bekannter Kreis"),
        ({"topics": ["astrologie"]}, "topics", "unbekannte(s) Thema/Themen: astrologie"),
    ],
)
async def test_an_unknown_code_in_a_profile_is_a_422_naming_the_field(seeded, body, field, german):
    response = await seeded.client.post(MATCH, json=body)
    assert response.status_code == 422 and response.json()["title"] == "Ungültiges Profil"
    reasons = {p["name"]: p["reason"] for p in response.json()["invalid_params"]}
    assert reasons[field].startswith(german)
    english = await seeded.client.post(MATCH, json=body, headers=ENGLISH)
    assert english.json()["title"] == "Invalid profile"
