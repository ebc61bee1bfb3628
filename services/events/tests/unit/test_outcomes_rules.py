"""Pure rules of outcomes: drafts have none, parties once each, progress says something (no I/O)."""

from nzr_events.outcomes.rules import (
    distinct_parties,
    empty_progress,
    outcomes_closed,
    unknown_parties,
    unknown_topics,
)


def test_a_draft_event_has_no_outcomes_a_held_one_has():
    assert outcomes_closed("draft") == "A draft event has no outcomes yet."
    assert outcomes_closed("published") is None
    assert outcomes_closed("completed") is None


def test_parties_are_named_once_in_the_order_given():
    assert distinct_parties(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_a_progress_report_says_what_moved_what_blocks_or_the_new_status():
    assert [v.name for v in empty_progress(None, None, None)] == ["moved"]
    assert [v.name for v in empty_progress("", "", None)] == ["moved"]
    assert empty_progress("the roof is on", None, None) == []
    assert empty_progress(None, "no permit", None) == []
    assert empty_progress(None, None, "done") == []


def test_parties_and_the_responsible_must_be_known_actors():
    problems = unknown_parties(["a", "x", "b"], "y", known={"a", "b"})
    assert problems == [
        ("party_actor_ids", "x is not an actor of this region"),
        ("responsible_actor_id", "y is not an actor of this region"),
    ]
    assert unknown_parties(["a", "b"], "a", known={"a", "b"}) == []


def test_recommendation_topics_come_from_the_vocabulary():
    assert unknown_topics(["bne", "glueck"], allowed={"bne"}) == [("topics", "unknown topic: glueck")]
