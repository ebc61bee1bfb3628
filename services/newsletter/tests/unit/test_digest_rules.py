"""Digest rules: when a list's digest is due and which items it lists."""

from datetime import UTC, datetime, timedelta

from nzr_newsletter.digests import rules

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def test_a_list_without_a_digest_yet_is_due():
    assert rules.is_due(last_digest_at=None, now=NOW, interval=WEEK, force=False)


def test_a_digest_is_due_once_the_interval_has_passed_and_not_before():
    assert rules.is_due(last_digest_at=NOW - WEEK, now=NOW, interval=WEEK, force=False)
    assert not rules.is_due(
        last_digest_at=NOW - WEEK + timedelta(seconds=1), now=NOW, interval=WEEK, force=False
    )


def test_forcing_makes_any_digest_due():
    assert rules.is_due(last_digest_at=NOW, now=NOW, interval=WEEK, force=True)


def test_items_fit_a_list_unless_both_have_topics_that_differ():
    assert rules.fits_topic(None, ["energy"])
    assert rules.fits_topic("energy", [])
    assert rules.fits_topic("energy", None)
    assert rules.fits_topic("energy", ["mobility", "energy"])
    assert not rules.fits_topic("energy", ["mobility"])
