"""Campaign rules: which status allows which step."""

import pytest

from nzr_newsletter.campaigns import rules


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_a_campaign_that_has_not_started_can_be_edited_and_sent(status):
    assert rules.can_edit(status) and rules.can_send(status)


@pytest.mark.parametrize("status", ["sending", "paused", "sent", "cancelled"])
def test_a_campaign_that_has_started_or_ended_can_be_neither_edited_nor_sent_again(status):
    assert not rules.can_edit(status) and not rules.can_send(status)


def test_only_scheduled_or_sending_campaigns_can_be_paused():
    statuses = ["draft", "scheduled", "sending", "paused", "sent", "cancelled"]
    assert [s for s in statuses if rules.can_pause(s)] == ["scheduled", "sending"]


def test_a_resumed_campaign_sends_on_if_it_had_started_and_waits_otherwise():
    assert rules.resumed_status(started=True) == "sending"
    assert rules.resumed_status(started=False) == "scheduled"
