"""The event contract: explicit subjects, versions, and no personal data on shareable subjects."""

import typing
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from nzr_common.contracts import EVENT_TYPES, Envelope, Visibility, subjects
from nzr_common.contracts.actors import ActorRegistered
from nzr_common.contracts.base import Subject

PERSONAL_FIELDS = {"email", "name", "first_name", "last_name", "phone", "person_name", "address"}
# Organisation and programme names are not personal data.
ORGANISATION_NAME_EVENTS = {
    "nzr.actors.actor_registered.v1",
    "nzr.actors.actor_updated.v1",
    "nzr.funding.program_published.v1",
    "nzr.funding.program_updated.v1",
    "nzr.funding.deadline_approaching.v1",
}


def _field_names(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _field_names(arg)
    return names


def test_every_subject_constant_belongs_to_exactly_one_event():
    constants = {v for v in vars(subjects).values() if isinstance(v, Subject)}
    assert {cls.subject for cls in EVENT_TYPES.values()} == constants


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_types_are_versioned_past_tense_names(event_type):
    root, producer, name, version = event_type.split(".")
    assert root == "nzr" and producer in {"actors", "events", "newsletter", "funding", "reporting"}
    assert version.startswith("v") and version[1:].isdigit()
    assert name == name.lower()


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_shareable_events_carry_no_personal_data(event_type):
    event_class = EVENT_TYPES[event_type]
    if event_class.subject.visibility is not Visibility.SHAREABLE:
        return
    personal = _field_names(event_class) & PERSONAL_FIELDS
    if event_type in ORGANISATION_NAME_EVENTS:
        personal -= {"name"}
    assert not personal, f"{event_type} is shareable but has {personal}"


def test_events_carrying_email_travel_only_on_private_subjects():
    for event_class in EVENT_TYPES.values():
        if "email" in event_class.model_fields:
            assert event_class.subject.visibility is Visibility.PRIVATE


def test_envelope_has_cloudevents_attributes_and_region_in_subject():
    event = ActorRegistered(
        actor_id="a-1",
        name="Tafel Zwickau e.V.",
        kind="verein",
        sector="zivilgesellschaft",
        district="14524000",
        registered_at=datetime.now(UTC),
    )
    envelope = Envelope.wrap(event, region="zwickau", service="actors")
    document = envelope.model_dump(mode="json")
    assert {"specversion", "id", "type", "source", "time", "subject", "data"} <= set(document)
    assert document["specversion"] == "1.0"
    assert document["type"] == "nzr.actors.actor_registered.v1"
    assert document["subject"] == "a-1"
    assert envelope.nats_subject() == "nzr.zwickau.pub.actors.actor_registered.v1"


def test_consumers_ignore_unknown_fields_so_optional_additions_keep_the_version():
    document = {
        "type": "nzr.actors.actor_registered.v1",
        "source": "/regions/x/actors",
        "subject": "a-1",
        "region": "x",
        "id": "e-1",
        "time": "2026-01-01T00:00:00Z",
        "future_attribute": 1,
        "data": {
            "actor_id": "a-1",
            "name": "X e.V.",
            "kind": "verein",
            "sector": "wirtschaft",
            "district": "14511000",
            "registered_at": "2026-01-01T00:00:00Z",
            "added_in_v1_1": "ignored",
        },
    }
    envelope = Envelope[ActorRegistered].model_validate(document)
    assert envelope.data.actor_id == "a-1"
