"""Subscriber rules: how the preferences page names a topic (pure, no I/O)."""

from __future__ import annotations

import re

#: "ue" after a vowel or "q" is no umlaut (neue, Steuer, bauen, Quelle).
_UE = re.compile(r"(?<![aeiouq])ue")


def topic_label(topic: str) -> str:
    """A readable label of a topic id: ``bildung_fuer_nachhaltige_entwicklung`` → ``Bildung
    für nachhaltige Entwicklung``, ``mobilitaet`` → ``Mobilität``."""
    words = [w for w in re.split(r"[_\-\s]+", topic.strip()) if w]
    label = " ".join(_UE.sub("ü", w.replace("ae", "ä").replace("oe", "ö")) for w in words)
    return label[:1].upper() + label[1:]
