"""German words as the funding search sees them: folded, stemmed and split into their parts.

A dictionary-based decompounder: a word is split where both sides are words of the lexicon (the
stems of every word of the packaged programme catalogue, the taxonomy's and topics' labels and
a short list of base words in ``reference/grundwoerter.txt``), linking elements (Fugen-s, -es,
-n, -en, -e) allowed after the first part, the longest known first part preferred. Why this and
not a library, measured on the 44 programmes (docs/funding.md): CharSplit (``compound-split``)
splits "Tschechien" into "Tsche|chien" and "Institutionen" into "Institut|ionen" with scores
above those of true compounds; ``german-nouns`` needs 25 MB and 1.7 s to load; PostgreSQL's
dictionaries need hunspell files this machine does not have, and search runs in Python anyway.

Every document word yields its stem and the stems of all its parts (``Umweltbildungsprojekt``
→ umweltbildungsprojekt, umweltbild, umwelt, bildung, projekt), so a query for any part finds
it. A query word that occurs in the catalogue asks for itself; a compound with a generic part
of the funding domain, or one no document has, asks for its specific first-level parts
("Klimaschutzförderung" → klimaschutz, "Dachbegrünung" → dach, begrün) and the whole word only
adds to the score; a word that neither occurs nor splits is corrected to the nearest word of
the catalogue (a typo). No I/O beyond reading the packaged lexicon once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache

from nzr_common import text
from nzr_funding.catalogue.taxonomy import value_labels
from nzr_funding.reference import REFERENCE_DIR, load_seed

#: Marks stored documents made by this analysis; change it when the lexicon or the splitting
#: changes, and stored documents are analysed again when the catalogue is loaded.
ANALYSIS_VERSION = "@de1"

_LINKS = ("es", "s", "en", "n", "e")
_MIN_PART = 4
#: Longer "words" are not split: the splitting is quadratic in the length, and German compounds
#: in funding texts stay far below ("Entwicklungszusammenarbeit" has 26 letters).
_MAX_SPLIT = 48
_WORD = re.compile(r"[a-z0-9]+")
#: Short base words that may be a part ("Radverkehr", "Biolandbau").
_SHORT_WORDS = frozenset({"rad", "bio", "see", "ost", "oko", "kita"})


@dataclass(frozen=True)
class Word:
    """One folded word: its stem, the stems of its first-level parts and of all its parts."""

    stem: str
    parts: tuple[str, ...] = ()
    all_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryTerms:
    """What a query asks: every ``required`` stem must occur; ``bonus`` stems add to the score."""

    required: tuple[str, ...]
    bonus: tuple[str, ...] = ()


@cache
def generic_parts() -> frozenset[str]:
    """Parts of a compound that do not narrow a funding search ("-förderung", "-projekt", ...);
    stemmed on first use, so that importing this module does not load Snowball."""
    return frozenset(
        text.tokens(
            "Förderung Förderungen Fördermittel Programm Projekt Fonds Zuschuss Antrag Mittel Geld Vorhaben"
        )
    )


@cache
def lexicon() -> frozenset[str]:
    """The stems words are split into (read once from the packaged reference data)."""
    base = (REFERENCE_DIR / "grundwoerter.txt").read_text(encoding="utf-8")
    pieces = [line.partition("#")[0] for line in base.splitlines()]
    for programme in load_seed()["programmes"]:
        pieces += [programme.get(f) or "" for f in ("name", "summary", "funder", "notes")]
    for labels in value_labels().values():
        pieces += labels.values()
    stems = {t for piece in pieces for t in text.tokens(piece)}
    return frozenset(s for s in stems if len(s) >= _MIN_PART or s in _SHORT_WORDS)


def stem(word: str) -> str:
    """The Snowball German stem of a folded word (as ``nzr_common.text.tokens`` stems; Snowball
    is loaded by the first word stemmed)."""
    return text.stem(word)


def _known(piece: str, *, last: bool) -> str | None:
    """The stem a piece of a compound stands for, if it is a word of the lexicon."""
    words = lexicon()
    # A first part may carry a linking element ("Umweltbildungs-") or be a verb stem that
    # stands for its noun ("Förder-programm" → Förderung).
    candidates = [piece]
    if not last:
        candidates += [*(piece[: -len(k)] for k in _LINKS if piece.endswith(k)), piece + "ung"]
    for candidate in candidates:
        if len(candidate) < _MIN_PART and candidate not in _SHORT_WORDS:
            continue
        found = stem(candidate)
        if found in words or candidate in _SHORT_WORDS:
            return found
    return None


Split = tuple[tuple[str, str], tuple[str, str]]  # ((head piece, its stem), (tail piece, its stem))


@lru_cache(maxsize=65536)
def _split(word: str, last: bool = True) -> Split | None:
    """The first-level split of a folded word, or None when it is no compound."""
    best: tuple[int, Split] | None = None
    for cut in range(len(word) - 3, 2, -1):
        head, tail = word[:cut], word[cut:]
        tail_stem = _known(tail, last=last)
        head_stem = _known(head, last=False)
        # Preference: both sides words (longest first part), then a first part that splits
        # further, then a last part that does.
        if head_stem and tail_stem:
            rank, parts = 0, ((head, head_stem), (tail, tail_stem))
        elif tail_stem and _split(head, False):
            rank, parts = 1, ((head, stem(head)), (tail, tail_stem))
        elif head_stem and _split(tail, last):
            rank, parts = 2, ((head, head_stem), (tail, stem(tail)))
        else:
            continue
        if best is None or rank < best[0]:
            best = (rank, parts)
            if rank == 0:
                break
    return best[1] if best else None


def _all_parts(word: str, last: bool) -> list[str]:
    split = _split(word, last)
    if split is None:
        return []
    found: list[str] = []
    for (piece, part), piece_last in zip(split, (False, last), strict=True):
        found += [p for p in (part, *_all_parts(piece, piece_last)) if p not in found]
    return found


@lru_cache(maxsize=65536)
def analyse(word: str) -> Word:
    """A folded word's stem and parts (all levels) for the index and the query."""
    whole = stem(word)
    split = _split(word) if 2 * _MIN_PART - 1 <= len(word) <= _MAX_SPLIT else None
    if split is None:
        return Word(whole)
    parts = tuple(p for _, p in split if p != whole)
    return Word(whole, parts, tuple(p for p in _all_parts(word, True) if p != whole))


_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"}
)
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(source: str) -> str:
    """``nzr_common.text.fold`` for whole documents: umlauts and ß spelled out, lower case,
    accents removed (by one regular expression instead of a test per character)."""
    folded = source.translate(_FOLD).lower()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def words(source: str) -> list[str]:
    """The folded words of a text without stop words."""
    return [w for w in _WORD.findall(fold(source)) if w not in text.STOPWORDS]


#: Stems a document word also stands for: the neighbour countries' adjectives name the country
#: ("deutsch-tschechische Begegnungen" is found by "Tschechien").
_ALSO = {"tschechisch": ("tschechi",), "polnisch": ("pol",), "sachsisch": ("sachs",)}


def document_tokens(*sources: str | None) -> tuple[str, ...]:
    """Index tokens of texts: each word's stem followed by the stems of its parts."""
    result: list[str] = []
    for source in sources:
        for word in words(source or ""):
            analysed = analyse(word)
            result.append(analysed.stem)
            result += analysed.all_parts
            result += _ALSO.get(analysed.stem, ())
    return tuple(result)


def query_terms(
    query: str, vocabulary: Collection[str] = (), corrections: dict[str, str] | None = None
) -> QueryTerms:
    """The stems a query asks for, given the ``vocabulary`` of the index (every stem and part
    that occurs in some document).

    A word that occurs in the vocabulary asks for itself (documents with a longer compound
    containing it carry it as a part), unless it is a compound with a generic part: that, and a
    compound no document has, asks for its specific first-level parts, the whole and the
    generic parts only adding to the score ("Klimaschutzförderung" → klimaschutz,
    "Umweltbildungsprojekt" → umweltbild, "Dachbegrünung" → dach, begrun). A word that neither
    occurs nor splits is taken for a typo of the nearest stem of the vocabulary (one edit in
    words up to 7 letters, two in longer ones), if there is one.
    """
    required: list[str] = []
    bonus: list[str] = []
    generic = generic_parts()
    for word in words(query):
        analysed = analyse(word)
        specific = [p for p in analysed.parts if p not in generic]
        whole_asked = analysed.stem in vocabulary and len(specific) == len(analysed.parts)
        if specific and not whole_asked:
            required += [_corrected(p, vocabulary, corrections) for p in specific]
            bonus += [analysed.stem, *(p for p in analysed.parts if p in generic)]
        else:
            required.append(_corrected(analysed.stem, vocabulary, corrections))
    unique = tuple(dict.fromkeys(required))
    return QueryTerms(unique, tuple(t for t in dict.fromkeys(bonus) if t not in unique))


def _corrected(stem: str, vocabulary: Collection[str], corrections: dict[str, str] | None) -> str:
    """The stem itself if the vocabulary has it (or no vocabulary is given), else the nearest
    stem of the vocabulary (itself when none is near enough), remembered in ``corrections``
    (one per vocabulary: the index keeps it)."""
    if stem in vocabulary or len(stem) < _MIN_PART or not vocabulary:
        return stem
    if corrections is not None:
        found = corrections.get(stem)
        if found is None:
            if len(corrections) >= 4096:
                corrections.clear()
            found = corrections[stem] = _nearest(stem, vocabulary)
        return found
    return _nearest(stem, vocabulary)


def _nearest(stem: str, vocabulary: Collection[str]) -> str:
    # Imported by the first typo: rapidfuzz is ~2 MB resident an idle process does not need.
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    allowed = 1 if len(stem) <= 7 else 2
    found = process.extract(
        stem, list(vocabulary), scorer=Levenshtein.distance, score_cutoff=allowed, limit=8
    )
    if not found:
        return stem
    # Fewest edits; among equals the word sharing the longest beginning, then the shorter one.
    return min(found, key=lambda hit: (hit[1], -_common_prefix(stem, hit[0]), len(hit[0]), hit[0]))[0]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
