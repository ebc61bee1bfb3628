"""Search rules without I/O: text scoring."""

from datetime import date

from nzr_common.regions import load_districts
from nzr_funding.search import rules as search_rules

NAMES = {ags: d.name for ags, d in load_districts().items()}
DAY = date(2026, 11, 21)


def test_text_score_prefers_hits_in_the_name():
    in_name = search_rules.text_score(["klimaschutz"], ["klimaschutz"], ["klimaschutz", "verein"])
    in_summary = search_rules.text_score(["klimaschutz"], ["verein"], ["verein", "klimaschutz"])
    assert in_name > in_summary
