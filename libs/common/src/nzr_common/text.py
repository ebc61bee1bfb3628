"""German search text: fold umlauts and ß, tokenise, stem (Snowball German).

Done in Python rather than in the database, so SQLite FTS5 and PostgreSQL full-text search
index the same stems and give the same results.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"}
)
_TOKEN = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    "der die das und oder in im fuer von mit zu zum zur den dem des ein eine einer eines auf an am "
    "bei aus als auch ist sind wird werden nach ueber unter vor durch".split()
)


def fold(text: str) -> str:
    """Lower-case, umlauts and ß spelled out (ä → ae, ß → ss), other accents removed."""
    folded = text.translate(_FOLD).lower()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _german_stemmer() -> Any:
    """Snowball's German stemmer, loaded by the first text to stem (the package brings every
    language, about 6 MB a process that never searches does not need)."""
    import snowballstemmer

    return snowballstemmer.stemmer("german")


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """The Snowball German stem of a folded token."""
    return str(_german_stemmer().stemWord(token))


def tokens(text: str) -> list[str]:
    """Stemmed search tokens of ``text`` without stop words."""
    return [stem(t) for t in _TOKEN.findall(fold(text)) if t not in STOPWORDS]


def search_document(*parts: str | None) -> str:
    """The stemmed tokens of all ``parts`` as one space-separated string, for an index column."""
    return " ".join(t for part in parts if part for t in tokens(part))
