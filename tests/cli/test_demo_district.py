"""The generated demo district: the same every time, the shape a new user should see, and every
item a valid request body of the API it is posted to."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import get_args

import pytest

from nzr_actors.actors import rules
from nzr_actors.actors.schemas import ActorCreate
from nzr_actors.contacts.schemas import ContactCreate
from nzr_actors.cooperations.schemas import CooperationCreate
from nzr_cli.demo import district
from nzr_cli.demo.loader import DEMO_STEPS, DemoDataFailed, DemoLedger, _resolved
from nzr_common.contracts.actors import ActorKind, LegalForm, Sector


def _generated() -> tuple[tuple, tuple, tuple]:  # type: ignore[type-arg]
    return (
        district.district_actors.__wrapped__(),  # type: ignore[attr-defined]
        district.district_cooperations.__wrapped__(),  # type: ignore[attr-defined]
        district.district_contacts.__wrapped__(),  # type: ignore[attr-defined]
    )


def test_the_demo_district_is_the_same_every_time():
    assert _generated() == _generated()


def test_the_demo_district_has_every_kind_sector_and_legal_form_and_a_few_likely_duplicates():
    actors, _, _ = _generated()
    assert len(actors) >= 150 and len({a["key"] for a in actors}) == len(actors)
    assert {a["district"] for a in actors} == {district.DISTRICT}
    assert set(Counter(a["kind"] for a in actors)) == set(get_args(ActorKind))
    assert set(Counter(a["sector"] for a in actors)) == set(get_args(Sector))
    assert set(Counter(a["legal_form"] for a in actors)) == set(get_args(LegalForm))
    directions = Counter(r["direction"] for a in actors for r in a["resources"])
    assert directions["offered"] > 50 and directions["needed"] > 50
    for actor in actors:
        ActorCreate.model_validate({k: v for k, v in actor.items() if k != "key"})
    by_key = {a["key"]: a for a in actors}
    copies = [a for a in actors if a["key"].endswith("-doppelt")]
    assert len(copies) == 4
    for copy in copies:
        original = by_key[copy["key"].removesuffix("-doppelt")]
        assert copy["name"] != original["name"] and copy["municipality"] != original["municipality"]
        score = rules.name_similarity(rules.name_key(copy["name"]), rules.name_key(original["name"]))
        assert score >= rules.DUPLICATE_NAME_THRESHOLD, (copy["name"], original["name"])


def test_the_demo_cooperations_span_five_years_with_ended_ones_and_each_pair_once():
    actors, cooperations, contacts = _generated()
    keys = {f"{district.ACTOR_STEP}/{a['key']}" for a in actors}
    assert 280 <= len(cooperations) <= 320
    pairs = {frozenset((c["actor_a"]["$ref"], c["actor_b"]["$ref"])) for c in cooperations}
    assert len(pairs) == len(cooperations) and all(len(p) == 2 and p <= keys for p in pairs)
    since = sorted(date.fromisoformat(c["since"]) for c in cooperations)
    assert (since[-1] - since[0]).days > 5 * 365 - 120
    ended = [c for c in cooperations if "until" in c]
    assert 0.15 < len(ended) / len(cooperations) < 0.35
    for cooperation in cooperations:
        body = {k: v for k, v in cooperation.items() if k != "key"}
        CooperationCreate.model_validate({**body, "actor_a": "a", "actor_b": "b"})
    assert len(contacts) >= 30 and {c["actor_id"]["$ref"] for c in contacts} <= keys
    for contact in contacts:
        ContactCreate.model_validate({k: v for k, v in contact.items() if k not in ("key", "actor_id")})


def test_references_are_replaced_by_the_ids_of_earlier_steps(tmp_path):
    ledger = DemoLedger(tmp_path / "demo-loaded")
    ledger.record(district.ACTOR_STEP, "stadt-freiberg", "id-1")
    item = {"key": "k", "actor_id": {"$ref": f"{district.ACTOR_STEP}/stadt-freiberg"}, "name": "x"}
    assert _resolved(item, ledger) == {"key": "k", "actor_id": "id-1", "name": "x"}
    with pytest.raises(DemoDataFailed, match="stadt-doebeln"):
        _resolved({"key": "k", "actor_id": {"$ref": f"{district.ACTOR_STEP}/stadt-doebeln"}}, ledger)
    assert [s.name for s in DEMO_STEPS].index("cooperations") > [s.name for s in DEMO_STEPS].index(
        district.ACTOR_STEP
    )
