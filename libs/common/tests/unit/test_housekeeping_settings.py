"""The plumbing tables' pruning is configuration: defaults as documented, durations from the
environment as seconds or ISO 8601."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from nzr_common.settings import ServiceSettings


def test_pruning_defaults_are_the_documented_ones():
    settings = ServiceSettings()
    assert settings.outbox_keep_sent == timedelta(days=1)
    assert settings.inbox_keep == timedelta(days=30)
    assert settings.housekeeping_interval == timedelta(minutes=10)


def test_pruning_durations_are_read_as_seconds_or_iso_8601(monkeypatch):
    monkeypatch.setenv("OUTBOX_KEEP_SENT", "PT6H")
    monkeypatch.setenv("INBOX_KEEP", "0")
    monkeypatch.setenv("HOUSEKEEPING_INTERVAL", "90")
    settings = ServiceSettings()
    assert settings.outbox_keep_sent == timedelta(hours=6)
    assert settings.inbox_keep == timedelta(0)
    assert settings.housekeeping_interval == timedelta(seconds=90)


def test_pruning_duration_that_is_no_duration_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("INBOX_KEEP", "a month")
    with pytest.raises(ValidationError, match="inbox_keep"):
        ServiceSettings()
