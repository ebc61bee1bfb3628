"""Rules of cooperations without I/O: storage order and the checks of a request."""

from datetime import date

from nzr_actors.actors.rules import InvalidField
from nzr_actors.cooperations import rules
from nzr_actors.cooperations.schemas import CooperationCreate


def request(**fields: object) -> CooperationCreate:
    body: dict[str, object] = {"actor_a": "a", "actor_b": "b", "type": "projekt", "since": date(2024, 1, 1)}
    return CooperationCreate.model_validate(body | fields)


def test_a_pair_has_one_spelling():
    assert rules.cooperation_pair("b", "a") == rules.cooperation_pair("a", "b") == ("a", "b")


def test_a_valid_request_has_no_problems():
    assert rules.cooperation_problems(request(topic="bne"), region_id="sachsen", topics={"bne"}) == []


def test_every_problem_of_a_request_is_named():
    problems = rules.cooperation_problems(
        request(actor_b="a", actor_a="a", topic="raumfahrt", until=date(2023, 1, 1)),
        region_id="sachsen",
        topics={"bne"},
    )
    assert problems == [
        InvalidField("actor_b", "an actor cannot cooperate with itself"),
        InvalidField("topic", "unknown topic: raumfahrt"),
        InvalidField("until", "until is before since"),
    ]


def test_actor_a_must_be_of_this_region():
    problems = rules.cooperation_problems(request(actor_a_region="bayern"), region_id="sachsen", topics=set())
    assert problems == [InvalidField("actor_a_region", "actor_a must be an actor of this region (sachsen)")]


def test_across_regions_both_regions_must_be_named():
    across = request(actor_b_region="thueringen")
    assert rules.partner_region_of(across, region_id="sachsen") == "thueringen"
    assert rules.cooperation_problems(across, region_id="sachsen", topics=set()) == [
        InvalidField("actor_a_region", "name both regions for a cooperation across regions (sachsen)")
    ]
    named = request(actor_a_region="sachsen", actor_b_region="thueringen")
    assert rules.cooperation_problems(named, region_id="sachsen", topics=set()) == []


def test_naming_the_own_region_for_actor_b_is_no_cooperation_across_regions():
    assert rules.partner_region_of(request(actor_b_region="sachsen"), region_id="sachsen") is None


def test_actors_of_the_request_must_be_actors_of_this_region():
    assert rules.unknown_actors(request(), known={"a"}, partner_region=None) == [
        InvalidField("actor_b", "no actor b in this region")
    ]


def test_across_regions_actor_b_must_not_be_of_this_region():
    assert rules.unknown_actors(request(), known={"a", "b"}, partner_region="thueringen") == [
        InvalidField("actor_b_region", "actor b is an actor of this region")
    ]
    assert rules.unknown_actors(request(), known={"a"}, partner_region="thueringen") == []
