"""Pure rules of the actors service (no I/O)."""

import pytest

from nzr_actors.actors import rules as domain
from nzr_actors.cooperations.rules import agreement_pairs
from nzr_actors.imports.rules import csv_row_to_actor, read_actor_csv
from nzr_actors.network import analysis as network
from nzr_actors.network import scoring


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bürgerenergie Elbtal eG", "Buergerenergie Elbtal"),
        ("Lastenrad-Initiative Radebeul e.V.", "Lastenrad Initiative Radebeul"),
        ("Tafel Meißen gGmbH", "tafel meissen"),
    ],
)
def test_name_keys_ignore_case_umlauts_punctuation_and_legal_form(a, b):
    assert domain.name_key(a) == domain.name_key(b)


def test_names_with_swapped_words_are_treated_as_the_same_name():
    assert domain.name_similarity(domain.name_key("Elbtal Energie"), domain.name_key("Energie Elbtal")) == 1.0


def test_website_keys_ignore_scheme_www_and_trailing_slash():
    assert domain.website_key("https://www.Example.org/verein/") == domain.website_key(
        "http://example.org/verein"
    )


def test_place_falls_back_to_the_district_without_a_municipality():
    assert domain.place_key(None, "14612000") == "ags:14612000"
    assert domain.place_key("Görlitz", "14626000") == "goerlitz"


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ('"3"', {3}),
        ('W/"3", "4"', {3, 4}),
        ("*", None),
        (None, set()),
        ("garbage", set()),
    ],
)
def test_if_match_headers_name_versions(header, versions):
    assert domain.parse_if_match(header) == versions


def test_agreement_pairs_are_each_pair_of_distinct_parties_once():
    assert agreement_pairs(["c", "a", "b", "a"]) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_a_pair_from_different_sectors_with_a_shared_topic_is_a_surprising_match():
    a = network.Node("a", "A", "verein", "zivilgesellschaft", "x", ("bne",), frozenset({"raeume"}))
    b = network.Node("b", "B", "unternehmen", "wirtschaft", "x", ("bne",), needs=frozenset({"raeume"}))
    suggestion = scoring.score_pair(a, b, adamic_adar=0.0)
    assert suggestion.surprising
    assert suggestion.score == pytest.approx(0.40 + 0.15 + 0.125)


def test_csv_rows_become_actor_bodies_with_lists_and_flags():
    rows = read_actor_csv(
        b"name;kind;sector;district;topics;public_profile;resources_needed\n"
        b"A;verein;wirtschaft;14612000;bne|kultur;ja;geld\n"
    )
    body = csv_row_to_actor(rows[0].values)
    assert body["topics"] == ["bne", "kultur"] and body["public_profile"] is True
    assert body["resources"] == [{"kind": "geld", "direction": "needed"}]
