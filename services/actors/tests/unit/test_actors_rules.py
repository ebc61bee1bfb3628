"""Rules of actors without I/O: profile checks, ETags, cursors and search fingerprints."""

import pytest

from nzr_actors.actors import rules


def test_a_district_outside_the_region_and_unknown_or_repeated_topics_are_refused():
    problems = rules.check_actor_profile(
        district="09162000",
        topics=["bne", "raumfahrt", "bne"],
        region_districts={"14612000"},
        known_topics={"bne", "kultur"},
    )
    assert problems == [
        rules.InvalidField("district", "09162000 is not a district of this region"),
        rules.InvalidField("topics", "unknown topics: raumfahrt"),
        rules.InvalidField("topics", "topics must not repeat"),
    ]


def test_fields_not_sent_are_not_checked():
    assert (
        rules.check_actor_profile(district=None, topics=None, region_districts=set(), known_topics=set())
        == []
    )


def test_an_invalid_field_is_a_field_problem_pair():
    name, reason = rules.InvalidField("district", "unknown")
    assert (name, reason) == ("district", "unknown")


def test_the_etag_of_a_version_is_read_back_by_if_match():
    assert rules.parse_if_match(rules.etag(7)) == {7}


def test_a_cursor_survives_its_token():
    cursor = rules.Cursor(
        sort="-created_at", scope="abc", values=["2024-01-01T00:00:00+00:00", 0.5], last_id="x"
    )
    assert rules.decode_cursor(rules.encode_cursor(cursor)) == cursor


@pytest.mark.parametrize("token", ["", "not base64 at all!", "W10", "WzEsMiwzLDRd"])
def test_tokens_that_are_no_cursors_are_refused(token):
    with pytest.raises(ValueError, match="not a cursor of this list"):
        rules.decode_cursor(token)


def test_the_search_scope_ignores_the_order_of_filter_values_but_not_the_values():
    one = rules.search_scope(q="energie", kinds=["verein", "stiftung"], public_only=True)
    assert one == rules.search_scope(q="energie", kinds=["stiftung", "verein"], public_only=True)
    assert one != rules.search_scope(q="energie", kinds=["verein"], public_only=True)
    assert one != rules.search_scope(q="energie", kinds=["verein", "stiftung"], public_only=False)


def test_similar_names_score_high_and_different_ones_below_the_duplicate_threshold():
    close = rules.name_similarity(
        rules.name_key("Bürgerenergie Elbtal"), rules.name_key("Buergerenergie Elbtall")
    )
    far = rules.name_similarity(rules.name_key("Tafel Meißen"), rules.name_key("Sportverein Radebeul"))
    assert close >= rules.DUPLICATE_NAME_THRESHOLD > far


def test_below_the_floor_the_similarity_is_zero():
    assert rules.name_similarity("abc", "xyz", floor=0.85) == 0.0


def test_the_search_document_holds_stems_of_name_description_place_and_topics():
    document = rules.actor_search_document(
        name="Lastenrad Dresden", description=None, topics=["energie_klimaschutz"], municipality="Radebeul"
    )
    words = document.split()
    assert any(w.startswith("lastenrad") for w in words)
    assert any(w.startswith("radebeul") for w in words)
    assert any(w.startswith("klimaschutz") for w in words)


@pytest.mark.parametrize("website", ["http://[", "[::1"])
def test_a_website_that_is_no_url_has_no_key(website):
    assert rules.website_key(website) is None
