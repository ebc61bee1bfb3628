"""Base pieces of the event contract: subjects, the event base class and the CloudEvents envelope.

Subjects carry the region so that identical subjects of two regions never meet on a leaf link,
and a visibility token (``pub`` or ``priv``) so that the hub's stream sources can take the
shareable events and never the region-private ones (personal data travels only on ``priv``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

SUBJECT_ROOT = "nzr"
SPEC_VERSION = "1.0"


class Visibility(StrEnum):
    """Whether an event may leave its region (``pub``) or must stay in it (``priv``)."""

    SHAREABLE = "pub"
    PRIVATE = "priv"


@dataclass(frozen=True)
class Subject:
    """An explicit subject constant: ``<visibility>.<producer>.<name>.v<version>`` below a region."""

    visibility: Visibility
    producer: str
    name: str
    version: int

    @property
    def tail(self) -> str:
        return f"{self.producer}.{self.name}.v{self.version}"

    @property
    def event_type(self) -> str:
        """The CloudEvents ``type``, e.g. ``nzr.actors.actor_registered.v1``."""
        return f"{SUBJECT_ROOT}.{self.tail}"

    def for_region(self, region: str) -> str:
        """The concrete NATS subject in a region, e.g. ``nzr.demo.pub.actors.actor_registered.v1``."""
        return f"{SUBJECT_ROOT}.{region}.{self.visibility.value}.{self.tail}"


def shareable(producer: str, name: str, version: int = 1) -> Subject:
    return Subject(Visibility.SHAREABLE, producer, name, version)


def private(producer: str, name: str, version: int = 1) -> Subject:
    return Subject(Visibility.PRIVATE, producer, name, version)


def region_stream_name(region: str) -> str:
    """Name of the JetStream stream holding every event published in ``region``."""
    return f"NZR_{region.upper().replace('-', '_')}"


def region_stream_subjects(region: str) -> list[str]:
    return [f"{SUBJECT_ROOT}.{region}.>"]


class IntegrationEvent(BaseModel):
    """Base of every integration event. Subclasses set ``subject`` as a class variable.

    Consumers ignore unknown fields, so adding an optional field keeps the version; a breaking
    change is a new model with a ``.v2`` subject published alongside the old one.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    subject: ClassVar[Subject]

    def aggregate_id(self) -> str:
        """The id of the aggregate this event is about (CloudEvents ``subject``)."""
        raise NotImplementedError


E = TypeVar("E", bound=IntegrationEvent)


def new_event_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[E]):
    """CloudEvents 1.0 structured-mode envelope; ``region`` is an extension attribute."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=new_event_id)
    type: str
    source: str
    time: datetime = Field(default_factory=utcnow)
    subject: str
    region: str
    datacontenttype: str = "application/json"
    data: E

    @classmethod
    def wrap(cls, event: E, *, region: str, service: str) -> Envelope[E]:
        # The envelope is parametrised with the event's concrete class at runtime (pydantic
        # validates `data` against it); for the type checker that class is E.
        envelope_class = cast("type[Envelope[E]]", Envelope.__class_getitem__(type(event)))
        return envelope_class(
            type=event.subject.event_type,
            source=f"/regions/{region}/{service}",
            subject=event.aggregate_id(),
            region=region,
            data=event,
        )

    def nats_subject(self) -> str:
        return self.data.subject.for_region(self.region)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
