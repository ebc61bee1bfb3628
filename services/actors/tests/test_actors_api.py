"""Actors over HTTP: CRUD with ETags, consent, region boundaries, search, duplicates, bad input."""

import uuid

import pytest

DRESDEN = "14612000"
LEIPZIG = "14713000"


async def test_editor_creates_reads_updates_and_deletes_an_actor_with_etags(actors):
    created = await actors.create(
        name="Bürgerenergie Elbtal eG",
        kind="unternehmen",
        sector="wirtschaft",
        website="https://www.buergerenergie-elbtal.de/",
        resources=[{"kind": "geld", "direction": "offered", "amount": 5000}],
    )
    url = f"/api/v1/actors/{created['id']}"
    read = await actors.client.get(url, headers=actors.editor)
    assert read.headers["etag"] == '"1"' and read.json()["resources"][0]["amount"] == 5000
    assert (
        await actors.client.get(url, headers={**actors.editor, "If-None-Match": '"1"'})
    ).status_code == 304
    updated = await actors.client.patch(
        url,
        json={"description": "Photovoltaik auf Schuldächern"},
        headers={**actors.editor, "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"' and updated.json()["name"] == "Bürgerenergie Elbtal eG"
    assert (await actors.client.delete(url, headers={**actors.editor, "If-Match": '"2"'})).status_code == 204
    assert (await actors.client.get(url, headers=actors.editor)).status_code == 404


async def test_stale_if_match_gets_412_and_a_missing_one_gets_428(actors, assert_problem):
    url = f"/api/v1/actors/{(await actors.create())['id']}"
    first = await actors.client.patch(
        url, json={"name": "Neuer Name e.V."}, headers={**actors.editor, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = await actors.client.patch(
        url, json={"name": "Anderer Name"}, headers={**actors.editor, "If-Match": '"1"'}
    )
    assert assert_problem(stale, 412) and stale.headers["etag"] == '"2"'
    assert_problem(await actors.client.patch(url, json={"name": "Ohne ETag"}, headers=actors.editor), 428)
    assert (await actors.client.get(url, headers=actors.editor)).json()["name"] == "Neuer Name e.V."


async def test_anonymous_callers_see_only_actors_that_consented_to_a_public_profile(actors):
    word = f"sichtbar{uuid.uuid4().hex[:6]}"
    public = await actors.create(description=word, public_profile=True)
    private = await actors.create(description=word, public_profile=False)
    assert (await actors.client.get(f"/api/v1/actors/{public['id']}")).status_code == 200
    assert (await actors.client.get(f"/api/v1/actors/{private['id']}")).status_code == 404
    anonymous = (await actors.client.get("/api/v1/actors", params={"q": word})).json()
    assert [a["id"] for a in anonymous["items"]] == [public["id"]] and anonymous["total"] == 1
    editor = (await actors.client.get("/api/v1/actors", params={"q": word}, headers=actors.editor)).json()
    assert editor["total"] == 2


async def test_editors_of_another_region_cannot_touch_this_regions_actors(actors, token_for, assert_problem):
    actor = await actors.create(public_profile=False)
    url = f"/api/v1/actors/{actor['id']}"
    stranger = token_for("editor", "admin", region=f"r{uuid.uuid4().hex[:8]}")
    assert_problem(
        await actors.client.patch(url, json={"name": "Übernommen"}, headers={**stranger, "If-Match": '"1"'}),
        403,
    )
    assert_problem(await actors.client.delete(url, headers=stranger), 403)
    assert_problem(await actors.client.get(f"{url}/contacts", headers=stranger), 403)
    assert_problem(
        await actors.client.post(
            "/api/v1/actors",
            json={"name": "Fremd", "kind": "verein", "sector": "wirtschaft", "district": DRESDEN},
            headers=stranger,
        ),
        403,
    )
    assert_problem(await actors.client.get(url, headers=stranger), 404)
    assert (await actors.client.get(url, headers=actors.editor)).json()["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"district": "09162000"}, "district"),
        ({"district": "1461200"}, "district"),
        ({"topics": ["astrologie"]}, "topics"),
        ({"topics": ["bne", "bne"]}, "topics"),
        ({"description": "x" * 10_001}, "description"),
        ({"resources": [{"kind": "gold"}]}, "resources.0.kind"),
        ({"resources": [{"kind": "geld", "amount": -5}]}, "resources.0.amount"),
        ({"sector": "militaer"}, "sector"),
    ],
    ids=[
        "district-of-bavaria",
        "short-ags",
        "unknown-topic",
        "repeated-topic",
        "oversize-description",
        "unknown-resource",
        "negative-amount",
        "unknown-sector",
    ],
)
async def test_invalid_actor_input_is_a_422_problem_naming_the_field_and_stores_nothing(
    actors, change, field, assert_problem
):
    name = f"Ungültig {uuid.uuid4().hex[:8]}"
    body = {"name": name, "kind": "verein", "sector": "zivilgesellschaft", "district": DRESDEN, **change}
    assert_problem(await actors.client.post("/api/v1/actors", json=body, headers=actors.editor), 422, field)
    found = await actors.client.get("/api/v1/actors", params={"q": name}, headers=actors.editor)
    assert found.json()["total"] == 0


async def test_an_update_with_an_unknown_topic_is_refused_and_changes_nothing(actors, assert_problem):
    url = f"/api/v1/actors/{(await actors.create())['id']}"
    response = await actors.client.patch(
        url, json={"topics": ["astrologie"]}, headers={**actors.editor, "If-Match": '"1"'}
    )
    assert_problem(response, 422, "topics")
    assert (await actors.client.get(url, headers=actors.editor)).json()["version"] == 1


async def test_a_likely_duplicate_is_refused_with_409_until_the_client_confirms(actors, assert_problem):
    place = f"Radebeul {uuid.uuid4().hex[:6]}"
    first = await actors.create(name="Lastenrad-Initiative Radebeul e.V.", municipality=place)
    body = {
        "name": "Lastenrad Initiative Radebeul",
        "kind": "initiative",
        "sector": "zivilgesellschaft",
        "district": DRESDEN,
        "municipality": place,
    }
    refused = assert_problem(
        await actors.client.post("/api/v1/actors", json=body, headers=actors.editor), 409
    )
    assert [d["id"] for d in refused["duplicates"]] == [first["id"]]
    confirmed = await actors.client.post(
        "/api/v1/actors?confirm_duplicates=true", json=body, headers=actors.editor
    )
    assert confirmed.status_code == 201


async def test_duplicate_check_compares_the_whole_district_and_the_same_website(actors):
    tag = uuid.uuid4().hex[:6]
    place = f"Pirna {tag}"
    site = f"https://klimabuendnis-{tag}.de"
    same_name = await actors.create(name=f"Klimabündnis Pirna {tag} e.V.", municipality=place)
    same_site = await actors.create(name="Ganz anders benannt", municipality="Freital", website=site)
    elsewhere = await actors.create(name=f"Klimabuendnis-Pirna {tag} eV", municipality=f"Heidenau {tag}")
    await actors.create(name=f"Klimabündnis Pirna {tag} e.V.", district=LEIPZIG, municipality=place)
    report = await actors.client.get(
        "/api/v1/actors/duplicates",
        headers=actors.editor,
        params={
            "name": f"Verein Klimabündnis Pirna {tag}",
            "municipality": place,
            "district": DRESDEN,
            "website": f"{site}/",
        },
    )
    candidates = [(c["id"], c["reason"], c["same_municipality"]) for c in report.json()["candidates"]]
    assert candidates[0][0] == same_name["id"]  # equally similar: the same municipality first
    assert set(candidates) == {
        (same_name["id"], "similar_name", True),
        (same_site["id"], "same_website", False),
        (elsewhere["id"], "similar_name", False),
    }
    of_actor = await actors.client.get(f"/api/v1/actors/{same_name['id']}/duplicates", headers=actors.editor)
    assert [(c["id"], c["same_municipality"]) for c in of_actor.json()["candidates"]] == [
        (elsewhere["id"], False)
    ]


async def test_search_folds_umlauts_and_stems_german_words(actors):
    tag = uuid.uuid4().hex[:6]
    actor = await actors.create(
        name=f"Bürgerenergiegenossenschaft Weißeritz {tag}",
        description="Wir betreiben Solaranlagen auf Dächern von Schulen.",
    )
    for q in (
        f"buergerenergiegenossenschaft {tag}",
        f"Weisseritz {tag}",
        f"Solaranlage Schule {tag}",
        f"BÜRGERENERGIEGENOSSENSCHAFTEN {tag}",
        f"energie klimaschutz {tag}",
    ):
        found = await actors.client.get("/api/v1/actors", params={"q": q}, headers=actors.editor)
        assert [a["id"] for a in found.json()["items"]] == [actor["id"]], q
    none = await actors.client.get("/api/v1/actors", params={"q": f"Windkraft {tag}"}, headers=actors.editor)
    assert none.json()["total"] == 0


async def test_search_filters_by_kind_sector_district_topic_and_resources_with_paging(actors):
    tag = f"filter{uuid.uuid4().hex[:6]}"
    wanted = [
        await actors.create(
            name=f"Schule {tag} {i}",
            kind="bildungseinrichtung",
            sector="bildung_wissenschaft",
            district=LEIPZIG,
            topics=["bne", "kultur"],
            description=tag,
            resources=[{"kind": "raeume", "direction": "offered", "capacity": 30}],
        )
        for i in range(3)
    ]
    await actors.create(
        name=f"Schule {tag} ohne Raum",
        kind="bildungseinrichtung",
        sector="bildung_wissenschaft",
        district=LEIPZIG,
        topics=["bne"],
        description=tag,
        resources=[{"kind": "raeume", "direction": "needed"}],
    )
    await actors.create(
        name=f"Firma {tag}",
        kind="unternehmen",
        sector="wirtschaft",
        district=LEIPZIG,
        topics=["bne"],
        description=tag,
    )
    params = {
        "q": tag,
        "kind": "bildungseinrichtung",
        "district": LEIPZIG,
        "topic": "bne",
        "offers": "raeume",
        "sort": "-name",
        "limit": 2,
    }
    first = (await actors.client.get("/api/v1/actors", params=params, headers=actors.editor)).json()
    second = (await actors.client.get(first["next"], headers=actors.editor)).json()
    assert first["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    names = [a["name"] for a in first["items"] + second["items"]]
    assert names == sorted((a["name"] for a in wanted), reverse=True)
    needs = await actors.client.get(
        "/api/v1/actors", params={"q": tag, "needs": "raeume"}, headers=actors.editor
    )
    assert [a["name"] for a in needs.json()["items"]] == [f"Schule {tag} ohne Raum"]
    sector = await actors.client.get(
        "/api/v1/actors", params={"q": tag, "sector": "wirtschaft"}, headers=actors.editor
    )
    assert sector.json()["total"] == 1


async def test_openapi_documents_every_actors_route(actors):
    paths = (await actors.client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/actors",
        "/api/v1/actors/{actor_id}",
        "/api/v1/actors/import",
        "/api/v1/actors/{actor_id}/contacts",
        "/api/v1/persons/erase",
        "/api/v1/cooperations",
        "/api/v1/network/metrics",
        "/api/v1/network/suggestions",
        "/api/v1/network/export",
    ):
        assert path in paths, path


async def pages_by_next(actors, params: dict) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every page of a search, following ``next`` from the first page; ``Link`` says the same."""
    pages = []
    response = await actors.client.get("/api/v1/actors", params=params, headers=actors.editor)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next"] is None:
            assert "link" not in response.headers
            return pages
        assert response.headers["link"] == f'<{page["next"]}>; rel="next"'
        assert page["next_cursor"] and f"cursor={page['next_cursor']}" in page["next"]  # deprecated
        response = await actors.client.get(page["next"], headers=actors.editor)


SORTED_BY = {
    "name": lambda a: (a["name"].casefold(), a["id"]),
    "-name": lambda a: (a["name"].casefold(), a["id"]),
    "created_at": lambda a: (a["created_at"], a["id"]),
    "-created_at": lambda a: (a["created_at"], a["id"]),
    "updated_at": lambda a: (a["updated_at"], a["id"]),
    "-updated_at": lambda a: (a["updated_at"], a["id"]),
}


@pytest.mark.parametrize("sort", ["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"])
async def test_walking_next_gives_every_match_once_in_the_sort_order(actors, sort):
    tag = f"walk{uuid.uuid4().hex[:6]}"
    for i in range(5):
        # Two actors share each name: the id breaks the tie, so no row is skipped or repeated.
        await actors.create(name=f"Verein {tag} {i % 3}", description=tag)
    pages = await pages_by_next(actors, {"q": tag, "sort": sort, "limit": 2})
    walked = [a for p in pages for a in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    key = SORTED_BY[sort]
    names = [(a["name"], a["id"]) for a in walked]
    if sort.startswith("-"):  # descending by the field; the id still breaks ties ascending
        expected = sorted(walked, key=lambda a: a["id"])
        expected = sorted(expected, key=lambda a: key(a)[0], reverse=True)
    else:
        expected = sorted(walked, key=key)
    assert len({a["id"] for a in walked}) == 5
    assert names == [(a["name"], a["id"]) for a in expected]


@pytest.mark.parametrize("sort", ["name", "-name", "-created_at", "updated_at", "relevance"])
async def test_cursor_paging_visits_every_match_once_in_the_same_order_as_page_paging(actors, sort):
    tag = f"cursor{uuid.uuid4().hex[:6]}"
    for i in range(5):
        # Two actors share each name: the id breaks the tie, so no row is skipped or repeated.
        await actors.create(name=f"Verein {tag} {i % 3}", description=f"{tag} " * (i + 1))
    by_cursor = await pages_by_next(actors, {"q": tag, "sort": sort, "limit": 2})
    # The deprecated page/page_size still answer the same order for one release.
    params = {"q": tag, "sort": sort, "page_size": 2}
    by_page = [
        (
            await actors.client.get("/api/v1/actors", params={**params, "page": n}, headers=actors.editor)
        ).json()
        for n in (1, 2, 3)
    ]
    assert [len(p["items"]) for p in by_cursor] == [2, 2, 1]
    assert [p["total"] for p in by_cursor] == [5, 5, 5]
    assert [a["id"] for p in by_cursor for a in p["items"]] == [a["id"] for p in by_page for a in p["items"]]


async def test_a_cursor_stays_stable_when_actors_are_added_before_it(actors):
    tag = f"stable{uuid.uuid4().hex[:6]}"
    for i in range(4):
        await actors.create(name=f"Initiative {tag} {i}", description=tag)
    first = (
        await actors.client.get(
            "/api/v1/actors", params={"q": tag, "sort": "name", "limit": 2}, headers=actors.editor
        )
    ).json()
    await actors.create(name=f"Aaa Initiative {tag}", description=tag)  # sorts before page one
    second = (await actors.client.get(first["next"], headers=actors.editor)).json()
    assert [a["name"] for a in first["items"] + second["items"]] == [
        f"Initiative {tag} {i}" for i in range(4)
    ]
    assert second["next"] is None and second["total"] == 5


async def test_a_foreign_or_broken_cursor_is_a_422_problem_naming_the_cursor(actors, assert_problem):
    tag = f"badcursor{uuid.uuid4().hex[:6]}"
    for i in range(3):
        await actors.create(name=f"Stiftung {tag} {i}", description=tag)
    first = (
        await actors.client.get("/api/v1/actors", params={"q": tag, "limit": 1}, headers=actors.editor)
    ).json()
    token = first["next"].split("cursor=")[1]
    for params in (
        {"q": tag, "cursor": "not-a-cursor"},
        {"q": tag, "cursor": token, "kind": "verein"},
        {"q": tag, "cursor": token, "sort": "-name"},
    ):
        assert_problem(
            await actors.client.get("/api/v1/actors", params=params, headers=actors.editor), 422, "cursor"
        )


async def test_legal_form_is_stored_changed_filtered_announced_and_labelled_in_german(actors):
    tag = uuid.uuid4().hex[:6]
    actor = await actors.create(name=f"Bürgerenergie {tag} eG", kind="unternehmen", legal_form="eg")
    assert actor["legal_form"] == "eg"
    changed = await actors.client.patch(
        f"/api/v1/actors/{actor['id']}",
        json={"legal_form": "gmbh"},
        headers={**actors.editor, "If-Match": f'"{actor["version"]}"'},
    )
    assert changed.status_code == 200 and changed.json()["legal_form"] == "gmbh"
    by_form = await actors.client.get(
        "/api/v1/actors", params={"q": tag, "legal_form": ["gmbh", "ev"]}, headers=actors.editor
    )
    other = await actors.client.get(
        "/api/v1/actors", params={"q": tag, "legal_form": "eg"}, headers=actors.editor
    )
    assert [a["id"] for a in by_form.json()["items"]] == [actor["id"]] and other.json()["total"] == 0

    def announced(envelopes: list[dict]) -> bool:
        return {e["type"] for e in envelopes if e["subject"] == actor["id"]} >= {
            "nzr.actors.actor_registered.v1",
            "nzr.actors.actor_updated.v1",
        }

    mine = [e for e in await actors.events(expected=announced) if e["subject"] == actor["id"]]
    assert [(e["type"].split(".")[2], e["data"]["legal_form"]) for e in mine] == [
        ("actor_registered", "eg"),
        ("actor_updated", "gmbh"),
    ]
    vocabulary = (await actors.client.get("/api/v1/actors/vocabulary")).json()
    labels = {entry["code"]: entry["label"] for entry in vocabulary["legal_forms"]}
    assert labels["ev"] == "eingetragener Verein (e. V.)" and len(labels) == 10
    assert {"bne", "energie_klimaschutz"} <= {t["code"] for t in vocabulary["topics"]}
