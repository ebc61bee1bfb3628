"""Reading the newsletter's HTML pages with a real HTML parser (``html.parser``): what a screen
reader and a browser without JavaScript rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class PageFacts:
    lang: str | None = None
    title: str = ""
    headings: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)
    labels_for: set[str] = field(default_factory=set)
    scripts: int = 0
    images_without_alt: int = 0
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._open: list[str] = []
        self._chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.facts.lang = values.get("lang")
        elif tag == "form":
            self.facts.forms.append(values)
        elif tag == "input":
            self.facts.inputs.append(values)
        elif tag == "label" and "for" in values:
            self.facts.labels_for.add(values["for"])
        elif tag == "script":
            self.facts.scripts += 1
        elif tag == "img" and "alt" not in values:
            self.facts.images_without_alt += 1
        if tag in ("title", "h1", "h2", "button"):
            self._open.append(tag)
            self._chunks = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
            text = " ".join("".join(self._chunks).split())
            if tag == "title":
                self.facts.title = text
            elif tag == "button":
                self.facts.buttons.append(text)
            else:
                self.facts.headings.append(text)

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        self.facts.text += data


def read_page(html: str) -> PageFacts:
    """The facts of a page; asserts what every page must have (language, title, one h1, every
    form field labelled, no script)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    facts = reader.facts
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert facts.lang in ("de", "en"), facts.lang
    assert facts.title and len(facts.headings) >= 1 and facts.headings[0]
    assert facts.scripts == 0 and facts.images_without_alt == 0
    for field_ in facts.inputs:
        if field_.get("type") not in ("hidden", "submit"):
            assert field_.get("id") in facts.labels_for, f"input without label: {field_}"
    for form in facts.forms:
        assert form.get("method") == "post"
    facts.text = " ".join(facts.text.split())
    return facts
