"""German folding and stemming used by the full-text searches."""

from nzr_common.text import fold, search_document, tokens


def test_umlauts_and_sharp_s_fold_to_their_spelled_out_forms():
    assert fold("Größe Übergänge Straße") == "groesse uebergaenge strasse"


def test_inflected_forms_share_a_stem():
    assert tokens("Klimaschutzes") == tokens("Klimaschutz")
    assert tokens("Vereine") == tokens("Verein")


def test_folded_and_unfolded_spellings_match():
    assert tokens("Bürgerenergie") == tokens("Buergerenergie")


def test_stop_words_are_dropped_from_the_document():
    assert search_document("Netzwerk für Klimaschutz", None) == " ".join(
        tokens("Netzwerk") + tokens("Klimaschutz")
    )
