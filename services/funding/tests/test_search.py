"""German full-text search with filters, facets and ranking over the seed catalogue."""

import pytest

SEARCH = "/api/v1/funding/programs"


async def search(seeded, **params):  # type: ignore[no-untyped-def]
    response = await seeded.client.get(SEARCH, params={"as_of": "2026-11-21", **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit["programme"]["id"] for hit in page["items"]]


async def test_inflected_word_finds_its_stem(seeded):
    page = await search(seeded, q="Klimaschutzes", limit=100)
    assert "bund-nki-kommunalrichtlinie" in ids(page)
    assert page["items"][0]["score"] >= page["items"][-1]["score"]


async def test_umlauts_and_sharp_s_fold(seeded):
    with_umlaut = await search(seeded, q="Förderung", limit=100)
    spelled_out = await search(seeded, q="FOERDERUNG", limit=100)
    assert ids(with_umlaut) == ids(spelled_out) and with_umlaut["total"] > 0
    sharp_s = await search(seeded, q="Maßnahmen Klimaschutz", limit=100)
    double_s = await search(seeded, q="massnahme klimaschutz", limit=100)
    assert ids(sharp_s) == ids(double_s) and sharp_s["total"] > 0


async def test_every_term_must_occur(seeded):
    one = await search(seeded, q="Tschechien", limit=100)
    two = await search(seeded, q="Tschechien Jugend", limit=100)
    assert set(ids(two)) <= set(ids(one))


async def test_filters_combine_and_facets_count_each_dimension_without_its_own_selection(seeded):
    page = await search(seeded, level="land", eligible="kommune", limit=100)
    assert page["total"] > 0
    assert all(
        hit["programme"]["level"] == "land" and "kommune" in hit["programme"]["eligible"]
        for hit in page["items"]
    )
    level_counts = {f["value"]: f["count"] for f in page["facets"]["level"]}
    assert level_counts["land"] == page["total"] and level_counts.get("bund", 0) > 0
    assert set(page["facets"]) == {"funding_type", "area", "territory", "eligible", "level", "topic", "state"}
    labels = {f["value"]: f["label"] for f in page["facets"]["eligible"]}
    assert labels["verband_vereinigung"] == "Verband/Vereinigung"


async def test_open_now_and_deadline_before_use_the_deadline_data(seeded):
    open_now = await search(seeded, open_now="true", limit=100)
    assert all(hit["programme"]["deadline"]["state"] == "open" for hit in open_now["items"])
    before = await search(seeded, deadline_before="2026-12-31", limit=100)
    assert before["total"] > 0
    assert all(hit["programme"]["deadline"]["next_deadline"] <= "2026-12-31" for hit in before["items"])


async def test_amount_range_keeps_programmes_whose_range_overlaps(seeded):
    page = await search(seeded, amount_min=100000, limit=100)
    assert all((hit["programme"]["amount_max_eur"] or 10**9) >= 100000 for hit in page["items"])
    assert "stiftung-mitarbeit-starthilfe" not in ids(page)


async def test_pagination_is_stable(seeded):
    first = await search(seeded, limit=10)
    second = (await seeded.client.get(first["next"])).json()
    assert first["total"] == second["total"] == 44
    assert not set(ids(first)) & set(ids(second))
    # The deprecated offset still gives the same page for one release.
    assert ids(await search(seeded, limit=10, offset=10)) == ids(second)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"area": "raumfahrt"}, "area"),
        ({"level": "kommune"}, "level"),
        ({"amount_min": 10, "amount_max": 5}, "amount_min"),
        ({"deadline_before": "2026-02-30"}, "deadline_before"),
        ({"limit": 0}, "limit"),
    ],
)
async def test_bad_search_parameters_are_named_in_a_422_problem(seeded, params, field):
    response = await seeded.client.get(SEARCH, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [p["name"] for p in response.json()["invalid_params"]]


async def test_taxonomy_lists_every_dimension_with_its_source(seeded):
    taxonomy = (await seeded.client.get("/api/v1/funding/taxonomy")).json()
    assert taxonomy["source"]["repository"].startswith("https://github.com/")
    params = {d["parameter"] for d in taxonomy["dimensions"]}
    assert params == {"funding_type", "area", "territory", "eligible", "level", "topic", "state"}


async def test_unknown_programme_is_a_404_problem(seeded):
    response = await seeded.client.get(f"{SEARCH}/no-such-programme")
    assert response.status_code == 404


@pytest.mark.parametrize("q", ["Klimaschutz", "Förderung Vereine", "Tschechien", "Jugend Europa", "Bildung"])
async def test_the_index_finds_exactly_what_the_stemming_rule_says(seeded, q):
    """The same rule on both databases: every token the query asks for occurs in the document."""
    from nzr_funding.search.compounds import query_terms
    from nzr_funding.search.rules import matches_query

    page = await search(seeded, q=q, limit=100)
    catalogue = seeded.app.state.deps.catalogue
    asked = query_terms(q, catalogue.index.postings).required
    expected = {e.facts.id for e in catalogue.entries.values() if matches_query(asked, e.doc_tokens)}
    assert set(ids(page)) == expected and page["total"] == len(expected)


async def test_a_repeated_anonymous_search_is_answered_from_the_answer_cache(seeded):
    from datetime import UTC, datetime

    first = await seeded.client.get(f"{SEARCH}?q=Klimaschutz&level=land&as_of=2026-11-21")
    key = ("raw search", b"q=Klimaschutz&level=land&as_of=2026-11-21", datetime.now(UTC).date(), "de")
    assert seeded.app.state.deps.catalogue.cached(key).document == first.content
    again = await seeded.client.get(f"{SEARCH}?q=Klimaschutz&level=land&as_of=2026-11-21")
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["x-content-type-options"] == "nosniff"  # the middleware still answers
    forged = await seeded.client.get(
        f"{SEARCH}?q=Klimaschutz&level=land&as_of=2026-11-21", headers={"Authorization": "Bearer forged"}
    )
    assert forged.status_code == 401


async def test_a_catalogue_change_invalidates_cached_searches(shared):
    from .conftest import programme, random_token

    word = random_token("Zauberwort")
    before = await shared.client.get(SEARCH, params={"q": word})
    assert before.json()["total"] == 0
    record = programme(name=f"Förderung {word}")
    assert (await shared.import_json([record])).status_code == 200
    await shared.wait_for_revision(record["id"], 1)
    after = await shared.client.get(SEARCH, params={"q": word})
    assert [hit["programme"]["id"] for hit in after.json()["items"]] == [record["id"]]


FAST_PATH_CASES = [
    "",
    "q=Klimaschutz",
    "q=der",
    "level=land&level=bund&open_now=true",
    "amount_min=1000&amount_max=50000&limit=5&offset=2",
    "deadline_before=2026-12-31&as_of=2026-11-21",
    "state=open&topic=klimaschutz_energie",
    "q=F%C3%B6rderung&eligible=kommune&limit=3&limit=7",
]


@pytest.mark.parametrize("query", FAST_PATH_CASES)
async def test_the_anonymous_fast_path_answers_exactly_as_the_full_path(seeded, query):
    """``_fast_search`` (anonymous callers) and the endpoint (here: a caller with a token,
    which always takes the full path) give the same bytes."""
    from nzr_funding.search import routes as api

    full = await seeded.client.get(f"{SEARCH}?{query}", headers=seeded.editor)
    assert full.status_code == 200, full.text
    catalogue = seeded.app.state.deps.catalogue
    fast = await api._fast_search(
        {"query_string": query.encode()}, catalogue, seeded.app.state.runtime.sessions
    )
    assert fast is not None and fast.document == full.content
    anonymous = await seeded.client.get(f"{SEARCH}?{query}")
    assert anonymous.content == full.content


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("level=kommune", "level"),
        ("open_now=", "open_now"),
        ("amount_min=-1", "amount_min"),
        ("state=open&not_a_parameter=x", "not_a_parameter"),
    ],
)
async def test_what_the_fast_path_refuses_gets_the_full_paths_problem(seeded, query, field):
    from nzr_funding.search import routes as api

    catalogue = seeded.app.state.deps.catalogue
    assert (
        await api._fast_search({"query_string": query.encode()}, catalogue, seeded.app.state.runtime.sessions)
        is None
    )
    response = await seeded.client.get(f"{SEARCH}?{query}")
    assert response.status_code == 422
    assert field in [p["name"] for p in response.json()["invalid_params"]]


async def test_the_index_is_built_by_the_first_search_and_kept_current_after_it(funding):
    """An idle service holds no index (numpy stays unloaded, issue #20); once searched, changes
    to the catalogue rebuild it off the event loop."""
    from .conftest import programme

    first = programme()
    assert (await funding.import_json([first])).status_code == 200
    await funding.wait_for_revision(first["id"], 1)
    catalogue = funding.app.state.deps.catalogue
    assert (await funding.client.get(f"{SEARCH}/{first['id']}")).status_code == 200  # entries loaded
    assert catalogue.entries and catalogue._index is None

    assert first["id"] in ids(await search(funding, limit=100))
    assert catalogue._index is not None

    second = programme()
    assert (await funding.import_json([second])).status_code == 200
    await funding.wait_for_revision(second["id"], 1)
    assert (await funding.client.get(f"{SEARCH}/{second['id']}")).status_code == 200
    assert catalogue._index is not None and second["id"] in ids(await search(funding, limit=100))
