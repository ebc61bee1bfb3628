"""German words as the search sees them: compounds split into their parts, the query asking for
what narrows it, typos taken for the nearest word of the catalogue."""

from nzr_funding.search import compounds
from nzr_funding.search.compounds import analyse, document_tokens, query_terms


def test_a_compound_document_word_carries_all_its_parts():
    assert document_tokens("Umweltbildungsprojekte") == (
        "umweltbildungsprojekt",
        "umweltbild",
        "umwelt",
        "bildung",
        "projekt",
    )


def test_words_that_only_look_like_compounds_stay_whole():
    for word in ("tschechien", "institutionen", "agenturen", "partnerschaften", "unternehmen"):
        assert analyse(word).parts == (), word


def test_a_compound_with_a_generic_part_asks_for_its_specific_part():
    terms = query_terms("Klimaschutzförderung", {"klimaschutz", "klimaschutzforder"})
    assert terms.required == ("klimaschutz",)
    assert set(terms.bonus) == {"klimaschutzforder", "forder"}


def test_a_word_of_the_catalogue_asks_for_itself_and_an_unknown_compound_for_its_parts():
    assert query_terms("Klimaschutz", {"klimaschutz", "klima", "schutz"}).required == ("klimaschutz",)
    assert query_terms("Dachbegrünung", {"dach", "begrun"}).required == ("dach", "begrun")


def test_a_typo_is_taken_for_the_nearest_word_of_the_vocabulary():
    vocabulary = {"klimaschutz", "radverkehr", "entwicklungszusammenarbeit"}
    assert query_terms("Klimschutz", vocabulary).required == ("klimaschutz",)
    assert query_terms("Entwiklungszusammenarbeit", vocabulary).required == ("entwicklungszusammenarbeit",)
    assert query_terms("Raumfahrt", vocabulary).required == ("raumfahrt",)  # nothing near: asked as it is


def test_umlauts_spelled_out_and_left_off_meet():
    assert document_tokens("Förderung") == document_tokens("Foerderung") == document_tokens("Forderung")


def test_a_neighbour_countrys_adjective_stands_for_the_country():
    assert "tschechi" in document_tokens("deutsch-tschechische Begegnungen")
    assert query_terms("Tschechien").required == ("tschechi",)


def test_overlong_words_are_not_split():
    assert analyse("klimaschutz" * 5).parts == ()
    assert len("klimaschutz" * 5) > compounds._MAX_SPLIT
