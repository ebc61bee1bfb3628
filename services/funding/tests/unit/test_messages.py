"""The funding service's one message catalogue: every message the code says has its German,
and messages render in German by default and in English on request."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

import nzr_funding
from nzr_funding import i18n, vocabulary
from nzr_funding.i18n import Money, Percent, _

SOURCE = Path(nzr_funding.__file__).parent


def message_ids() -> set[str]:
    """Every literal message id of the code (``_("…")``) and the legal-form labels."""
    found = set(vocabulary.LEGAL_FORMS.values())
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def german_catalogue() -> dict[str, str]:
    path = i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "funding.po"
    with path.open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source) if m.id}


def test_every_message_of_the_code_has_its_german_translation():
    catalogue = german_catalogue()
    missing = sorted(m for m in message_ids() if not catalogue.get(m))
    assert missing == []


def test_the_catalogue_has_no_message_the_code_no_longer_says():
    assert sorted(set(german_catalogue()) - message_ids()) == []


def test_placeholders_survive_the_translation():
    def placeholders(text: str) -> list[str]:
        return sorted(part.split("}")[0] for part in text.split("{")[1:])

    for msgid, msgstr in german_catalogue().items():
        assert placeholders(msgid) == placeholders(msgstr), msgid


def test_a_message_renders_in_german_by_default_and_in_english_on_request():
    message = _("{need} exceeds the maximum {maximum}", need=Money(60000), maximum=Money(50000))
    assert message.render("de") == "60.000\xa0€ übersteigt den Höchstbetrag von 50.000\xa0€"
    assert message.render("en") == "€60,000 exceeds the maximum €50,000"
    deadline = _("next deadline {deadline} ({days} days)", deadline=date(2027, 6, 30), days=209)
    assert deadline.render("de") == "nächste Frist 30.06.2027 (in 209 Tagen)"
    assert deadline.render("en") == "next deadline Jun 30, 2027 (209 days)"
    rate = _("own share of {required} at {rate} funding is available", required=Money(2500), rate=Percent(80))
    assert "80\xa0%" in rate.render("de") and "80%" in rate.render("en")
