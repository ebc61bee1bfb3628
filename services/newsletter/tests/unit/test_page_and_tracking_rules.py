"""Rules of the pages (language negotiation, colour contrast, topic labels) and of counting
(which links are rewritten, which targets the redirect knows), and digest places and dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources

import pytest

from nzr_newsletter.digests.rules import place_of, when
from nzr_newsletter.subscribers.rules import topic_label
from nzr_newsletter.tracking.rules import pixel, rewrite_links, target_of, wants_tracking
from nzr_newsletter.web import prefers_html


def test_only_the_campaigns_own_web_links_go_through_the_counting_redirect():
    page = (
        '<p><a href="https://www.example.org/a?x=1&amp;y=2">A</a> <a href="mailto:info@example.org">M</a> '
        '<a href="https://www.example.org/a?x=1&amp;y=2">A again</a> <a href="NZRSLOTUNSUBQ">ab</a> '
        '<a title="t" href="http://example.net/b">B</a></p>'
    )
    rewritten, targets = rewrite_links(page, lambda i: f"https://nzr.example/t/c/links/{i}")
    assert targets == ["https://www.example.org/a?x=1&y=2", "http://example.net/b"]
    assert rewritten.count('href="https://nzr.example/t/c/links/0"') == 2
    assert 'href="https://nzr.example/t/c/links/1"' in rewritten
    assert 'href="mailto:info@example.org"' in rewritten and 'href="NZRSLOTUNSUBQ"' in rewritten


def test_the_redirect_knows_only_the_links_of_a_tracked_campaign():
    links = ["https://www.example.org/a"]
    assert target_of(links, 0) == "https://www.example.org/a"
    assert target_of(links, 1) is None and target_of(links, -1) is None and target_of(None, 0) is None


def test_a_campaign_is_counted_only_when_every_list_switched_it_on():
    assert wants_tracking([True, True]) and not wants_tracking([True, False]) and not wants_tracking([])
    assert 'alt=""' in pixel("https://nzr.example/t/c/open.gif")


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("*/*", False),
        (None, False),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.9, application/json;q=0.5", True),
    ],
)
def test_a_browser_gets_the_page_and_an_api_client_json(accept, html):
    assert prefers_html(accept) is html


def test_topic_ids_read_as_german_labels():
    assert topic_label("bildung_fuer_nachhaltige_entwicklung") == "Bildung für nachhaltige entwicklung"
    assert topic_label("mobilitaet") == "Mobilität" and topic_label("neue_steuer") == "Neue steuer"


def test_a_digest_item_says_where_and_when_in_local_time():
    assert place_of("Kulturhaus", "Hauptstr. 1, Leipzig", "Leipzig") == "Kulturhaus, Hauptstr. 1, Leipzig"
    assert (
        place_of(None, " ", "Landkreis Görlitz") == "Landkreis Görlitz" and place_of(None, None, None) is None
    )
    winter = datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
    assert when(winter, with_time=True) == "Do., 14.01.2027, 18:00 Uhr"
    assert when(datetime(2027, 7, 1, 21, 59, tzinfo=UTC), with_time=False) == "Do., 01.07.2027"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_text_colour_of_the_pages_meets_wcag_aa_on_its_background():
    css = resources.files("nzr_newsletter").joinpath("page_templates/base.html").read_text(encoding="utf-8")
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", css.split("<style>")[1].split("</style>")[0]))
    pairs = []
    for selector, declarations in rules.items():
        colour = re.search(r"(?<!-)color:\s*(#[0-9a-f]{6})", declarations)
        background = re.search(r"background:\s*(#[0-9a-f]{6})", declarations)
        if colour:
            pairs.append(
                (selector.strip(), colour.group(1), background.group(1) if background else "#ffffff")
            )
    assert {p[0] for p in pairs} >= {"body", "a", "button", ".site", "footer"}
    for selector, colour, background in pairs:
        assert _contrast(colour, background) >= 4.5, (selector, colour, background)
