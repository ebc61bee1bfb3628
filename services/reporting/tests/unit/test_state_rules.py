"""The state view's rules, without I/O."""

from datetime import UTC, datetime, timedelta

from nzr_reporting.state.rules import freshness_state


def test_region_is_stale_after_the_threshold_and_without_events_has_no_data():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert freshness_state(now - timedelta(minutes=5), now, timedelta(hours=1)) == "aktuell"
    assert freshness_state(now - timedelta(hours=2), now, timedelta(hours=1)) == "veraltet"
    assert freshness_state(None, now, timedelta(hours=1)) == "keine_daten"
