"""Likely duplicates (pure rules): spelling variants, legal forms, other municipalities of the
district, rows of the same import file, and the blocked index agreeing with a full comparison."""

import random
import sqlite3

from nzr_actors.actors import rules
from nzr_actors.imports.rules import NamedActor, likely_duplicates

VARIANTS = [
    ("Bürgerenergie Zschopau eG", "Buergerenergie Zschopau"),
    ("Förderverein der Grundschule Zschopau e.V.", "Förderverein Grundschule Zschopau"),
    ("Verein für Umweltbildung Freiberg", "Umweltbildung Freiberg e. V."),
    ("Lastenradverein Döbeln", "Lastenradverin Döbeln"),
    ("Straßenkinder Mittweida gGmbH", "Strassenkinder Mittweida"),
    ("Elbtal Energie", "Energie-Elbtal"),
]


def test_spelling_variants_and_legal_forms_are_likely_duplicates():
    for stored, typed in VARIANTS:
        score = rules.name_similarity(rules.name_key(stored), rules.name_key(typed))
        assert score >= rules.DUPLICATE_NAME_THRESHOLD, (stored, typed, score)


def test_different_organisations_stay_below_the_threshold():
    for a, b in [
        ("Grundschule Zschopau", "Förderverein Grundschule Zschopau"),
        ("Naturschutzbund Freiberg", "Naturschutzbund Freital"),
        ("Tafel Meißen", "Sportverein Radebeul"),
        ("2. Grundschule Döbeln", "3. Grundschule Döbeln"),
        ("Kita Nr. 12 Freiberg", "Kita Nr. 13 Freiberg"),
        # the same set of numbers, not the same numbers: {1, 3} both, but 1, 1, 3 against 1, 3, 3
        ("Akteur 3f3a1b Nr. 1", "Akteur 3f3a1b Nr. 3"),
    ]:
        assert rules.name_similarity(rules.name_key(a), rules.name_key(b)) < rules.DUPLICATE_NAME_THRESHOLD


def _names(count: int) -> dict[str, str]:
    rng = random.Random(7)
    first = ["Bürger", "Umwelt", "Energie", "Lastenrad", "Repair", "Natur", "Kultur", "Sport", "Heimat"]
    second = ["verein", "initiative", "werkstatt", "genossenschaft", "café", "bündnis", "kreis"]
    places = ["Freiberg", "Döbeln", "Mittweida", "Flöha", "Hainichen", "Rochlitz", "Brand-Erbisdorf"]
    return {
        f"a{i}": rules.name_key(f"{rng.choice(first)}{rng.choice(second)} {rng.choice(places)} {i % 97}")
        for i in range(count)
    }


def test_the_blocked_index_finds_what_a_full_comparison_finds():
    keys = _names(2_000)
    index = rules.NameIndex()
    for ident, key in keys.items():
        index.add(ident, key)
    for probe in [
        *list(keys.values())[::50],
        rules.name_key("Buergerverein Freiberg 3"),
        "umweltkreis doebeln",
    ]:
        full = rules.similar_names(probe, keys, limit=1_000)
        blocked = index.similar(probe, limit=1_000)
        assert sorted(blocked, key=str) == sorted(full, key=str), probe


def test_an_import_row_is_flagged_with_the_stored_actor_of_another_municipality_and_an_earlier_row():
    stored = [
        NamedActor("id-1", "Bürgerenergie Zschopau eG", "14521000", "Zschopau", None),
        NamedActor("id-2", "Bürgerenergie Zschopau eG", "14522000", "Freiberg", None),  # other district
        NamedActor("id-3", "Klimabündnis", "14521000", "Annaberg", "https://klima.example.org/"),
    ]
    rows = [
        NamedActor(2, "Buergerenergie Zschopau", "14521000", "Gornau", None),
        NamedActor(3, "Ganz neu e.V.", "14521000", None, "http://www.klima.example.org"),
        NamedActor(4, "Repair-Café Marienberg", "14521000", None, None),
        NamedActor(5, "Repair Café Marienberg e.V.", "14521000", None, None),
    ]
    found = likely_duplicates(stored, rows)
    assert sorted(found) == [2, 3, 5]
    assert [(d.other.ident, d.reason) for d in found[2]] == [("id-1", "similar_name")]
    assert [(d.other.ident, d.reason) for d in found[3]] == [("id-3", "same_website")]
    assert [(d.other.ident, d.reason, d.similarity) for d in found[5]] == [(4, "similar_name", 1.0)]


def test_the_databases_block_filter_hands_over_every_name_the_full_comparison_finds():
    keys = _names(2_000)
    keys.update({"typo": rules.name_key("Lastenradverin Döbeln"), "nothing": rules.name_key("!!")})
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE actors (id TEXT, name_key TEXT)")
        db.executemany("INSERT INTO actors VALUES (?, ?)", keys.items())
        for probe in [*list(keys.values())[::40], rules.name_key("Lastenradverein Döbeln")]:
            patterns = rules.block_patterns(probe)
            where = " OR ".join("name_key LIKE ?" for _ in patterns)
            handed_over = {row[0] for row in db.execute(f"SELECT id FROM actors WHERE {where}", patterns)}
            assert {ident for _, ident in rules.similar_names(probe, keys, limit=1_000)} <= handed_over
            assert len(handed_over) < len(keys)
