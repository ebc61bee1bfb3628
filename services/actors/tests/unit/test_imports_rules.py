"""Rules of the CSV import without I/O: decoding, columns, rows."""

import pytest

from nzr_actors.imports import rules


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte():
    with pytest.raises(rules.CsvRejected, match="not UTF-8") as caught:
        rules.read_actor_csv("name;kind\nVerein Größe;verein\n".encode("latin-1"))
    assert caught.value.field == "file"


def test_an_empty_file_is_refused():
    with pytest.raises(rules.CsvRejected, match="empty"):
        rules.read_actor_csv(b"  \n")


def test_missing_unknown_and_repeated_columns_are_named():
    with pytest.raises(rules.CsvRejected) as caught:
        rules.read_actor_csv(b"name,kind,colour,colour\n")
    assert caught.value.field == "columns"
    assert "missing columns: sector, district" in caught.value.reason
    assert "unknown columns: colour, colour" in caught.value.reason
    assert "repeated columns" in caught.value.reason


def test_the_delimiter_is_detected_and_a_bom_is_ignored():
    rows = rules.read_actor_csv("\ufeffname,kind,sector,district\nA,verein,wirtschaft,14612000\n".encode())
    assert rows == [
        rules.CsvRow(2, {"name": "A", "kind": "verein", "sector": "wirtschaft", "district": "14612000"})
    ]


def test_blank_lines_are_skipped_and_short_rows_reported_by_line():
    rows = rules.read_actor_csv(b"name;kind;sector;district\n\nA;verein\n")
    assert rows == [rules.CsvRow(3, {"__error__": "2 cells, the header has 4"})]


@pytest.mark.parametrize(
    ("cell", "flag"), [("ja", True), ("x", True), ("nein", False), ("", False), ("vielleicht", "vielleicht")]
)
def test_public_profile_words_become_flags_and_others_stay_for_validation(cell, flag):
    values = {
        "name": "A",
        "kind": "verein",
        "sector": "wirtschaft",
        "district": "14612000",
        "public_profile": cell,
    }
    assert rules.csv_row_to_actor(values)["public_profile"] == flag
