"""Likely-duplicate check of the CSV import at district scale: figures next to baselines measured
in the same run.

A district holds N stored actors (default 5,000, names built from German parts, without numbers:
names with numbers are compared only with the same numbers, which would flatter the index); a file of M
rows (default 2,000: a quarter respell stored names, a twentieth repeat an earlier row) is
checked as ``POST /api/v1/actors/import`` checks it (``nzr_actors.imports.rules.likely_duplicates``:
one ``NameIndex`` per district, blocked by word prefixes and suffixes). Baselines:

* the same rapidfuzz scorer without blocking: each row against every stored name and every
  earlier row (what a per-row full scan costs);
* the scan the actors service did before (difflib ``SequenceMatcher`` with its quick bounds),
  over the rows' own municipality only, measured on a sample of rows and scaled.

Printed: time of the whole file, per row, the ratio, and how many rows were flagged (the blocked
index must flag exactly what the full scan flags). Nothing is asserted; about 30 s.
``.venv/bin/python bench/actors_duplicates.py --help``
"""

from __future__ import annotations

import argparse
import random
import time
from difflib import SequenceMatcher

from rapidfuzz import fuzz, process

from nzr_actors.actors import rules
from nzr_actors.imports.rules import NamedActor, likely_duplicates

DISTRICT = "14522000"
PLACES = ["Freiberg", "Döbeln", "Mittweida", "Flöha", "Frankenberg", "Hainichen", "Rochlitz", "Oederan",
          "Roßwein", "Leisnig", "Waldheim", "Burgstädt", "Penig", "Hartha", "Lichtenau", "Sayda"]  # fmt: skip
FIRST = ["Bürger", "Umwelt", "Energie", "Lastenrad", "Natur", "Kultur", "Sport", "Heimat", "Jugend",
         "Senioren", "Garten", "Imker", "Wander", "Musik", "Theater", "Förder", "Eltern", "Klima", "Solar",
         "Wald"]  # fmt: skip
SECOND = ["verein", "initiative", "werkstatt", "genossenschaft", "bündnis", "kreis", "freunde", "netzwerk",
          "stiftung", "gruppe", "café", "hof", "laden", "forum"]  # fmt: skip
FORMS = ["e.V.", "eG", "gGmbH", "", "", ""]
EXTRA = ["Müller", "Schmidt", "Weber", "Wagner", "Becker", "Richter", "Wolf", "Neumann", "Krüger", "Lange",
         "Werner", "Lehmann", "Köhler", "Böhme", "Seidel", "Günther", "am Markt", "an der Mulde", "Nord",
         "Süd", "Oberdorf", "Niederdorf", "im Tal", "am Wald", "Altstadt", "West", "Ost"]  # fmt: skip


def stored_actors(count: int, rng: random.Random) -> list[NamedActor]:
    actors = []
    for i in range(count):
        place = rng.choice(PLACES)
        extra = f"{rng.choice(EXTRA)} {rng.choice(FIRST)}{rng.choice(SECOND)}"
        name = f"{rng.choice(FIRST)}{rng.choice(SECOND)} {place} {extra} {rng.choice(FORMS)}"
        actors.append(NamedActor(f"id-{i}", name.strip(), DISTRICT, place, None))
    return actors


def respell(name: str, rng: random.Random) -> str:
    variants = [
        lambda n: n.replace("ü", "ue").replace("ö", "oe").replace("ß", "ss"),
        lambda n: n.replace(" e.V.", "").replace(" eG", ""),
        lambda n: n[:5] + n[6:],  # a letter dropped
        lambda n: f"Verein {n}",
    ]
    return rng.choice(variants)(name)


def file_rows(stored: list[NamedActor], count: int, rng: random.Random) -> list[NamedActor]:
    rows: list[NamedActor] = []
    for line in range(2, count + 2):
        roll = rng.random()
        if roll < 0.25:
            like = rng.choice(stored)
            rows.append(NamedActor(line, respell(like.name, rng), DISTRICT, rng.choice(PLACES), None))
        elif roll < 0.30 and rows:
            like = rng.choice(rows)
            rows.append(NamedActor(line, respell(like.name, rng), DISTRICT, like.municipality, None))
        else:
            place = rng.choice(PLACES)
            name = f"{rng.choice(FIRST)}{rng.choice(SECOND)} {place} {rng.choice(EXTRA)} {rng.choice(FIRST)}"
            rows.append(NamedActor(line, name, DISTRICT, place, None))
    return rows


def full_scan(stored: list[NamedActor], rows: list[NamedActor]) -> dict[int, int]:
    """Baseline: the same scorer and rule, every row against every stored name and earlier row."""
    choices = {a.ident: rules.similarity_key(rules.name_key(a.name)) for a in stored}
    flagged = {}
    for row in rows:
        key = rules.similarity_key(rules.name_key(row.name))
        hits = [
            hit
            for hit in process.extract(
                key, choices, scorer=fuzz.ratio, score_cutoff=rules.DUPLICATE_NAME_THRESHOLD * 100, limit=None
            )
            if not rules.numbers_differ(key, hit[0])
        ]
        if hits:
            flagged[int(row.ident)] = len(hits)
        choices[row.ident] = key
    return flagged


def difflib_scan(stored: list[NamedActor], rows: list[NamedActor], sample: int) -> float:
    """Before: difflib within the row's municipality; seconds per row on a sample."""
    by_place: dict[str | None, list[str]] = {}
    for actor in stored:
        by_place.setdefault(actor.municipality, []).append(rules.name_key(actor.name))
    began = time.perf_counter()
    for row in rows[:sample]:
        key = rules.name_key(row.name)
        for other in by_place.get(row.municipality, []):
            matcher = SequenceMatcher(None, key, other)
            if matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85:
                matcher.ratio()
    return (time.perf_counter() - began) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=5_000, help="actors already in the district")
    parser.add_argument("--rows", type=int, default=2_000, help="rows of the imported file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(18)
    stored = stored_actors(args.stored, rng)
    rows = file_rows(stored, args.rows, rng)

    ours, base = [], []
    for _ in range(args.repeat):
        began = time.perf_counter()
        found = likely_duplicates(stored, rows)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        flagged = full_scan(stored, rows)
        base.append(time.perf_counter() - began)
    before = difflib_scan(stored, rows, sample=200)
    ours_s, base_s = min(ours), min(base)
    print(f"duplicate check of a {args.rows:,}-row import against {args.stored:,} actors of one district")
    print(
        f"  ours (NameIndex, blocked)       {ours_s * 1000:8.1f} ms   {ours_s / args.rows * 1e6:7.1f} µs/row"
    )
    print(
        f"  baseline (same scorer, no blocks){base_s * 1000:7.1f} ms   {base_s / args.rows * 1e6:7.1f} µs/row"
    )
    print(f"  ratio ours/baseline             {ours_s / base_s:8.2f}")
    print(f"  before (difflib, own municipality only) {before * 1e6:7.1f} µs/row (sampled)")
    same = set(found) == set(flagged)
    print(f"  rows flagged: ours {len(found)}, full scan {len(flagged)}, same rows: {same}")
    one = rules.name_key("Buergerverein Freiberg Neu")
    keys = {a.ident: rules.name_key(a.name) for a in stored}
    began = time.perf_counter()
    for _ in range(200):
        rules.similar_names(one, keys)
    per_call = (time.perf_counter() - began) / 200 * 1000
    print(f"  one create's check (similar_names over {args.stored:,} keys): {per_call:.2f} ms")


if __name__ == "__main__":
    main()
