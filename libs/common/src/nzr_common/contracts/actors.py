"""Events announced by the actors service."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from nzr_common.contracts import subjects
from nzr_common.contracts.base import IntegrationEvent

ActorKind = Literal[
    "verein",
    "initiative",
    "kommune",
    "unternehmen",
    "bildungseinrichtung",
    "religionsgemeinschaft",
    "stiftung",
    "verwaltung",
    "sonstige",
]
Sector = Literal["zivilgesellschaft", "wirtschaft", "verwaltung_politik", "bildung_wissenschaft"]
LegalForm = Literal[
    "ev",  # eingetragener Verein
    "ggmbh",
    "gmbh",
    "ug",
    "eg",  # eingetragene Genossenschaft
    "stiftung",
    "kdoer",  # Körperschaft des öffentlichen Rechts (Kommune, Kirche, Hochschule, …)
    "gbr",
    "einzelunternehmen",
    "keine",  # no legal form of its own (e.g. an unregistered initiative)
]
ResourceKind = Literal["geld", "sachleistung", "personal", "raeume", "wissen"]

PERSON_NAMESPACE = uuid.UUID("6f1d3a52-9e0b-4c47-8f59-7f6a1c2b9d10")


def person_id_for(email: str) -> str:
    """The pseudonymous id of the person behind an e-mail address, the same in every service.

    Services that hold an address find the person an erasure names by computing this on it,
    so the erasure event never needs to carry the address itself.
    """
    return str(uuid.uuid5(PERSON_NAMESPACE, email.strip().lower()))


class ResourceSummary(BaseModel):
    kind: ResourceKind
    direction: Literal["offered", "needed"]


class ActorProfile(BaseModel):
    """The organisation's shareable profile (no contact persons)."""

    actor_id: str
    name: str
    kind: ActorKind
    sector: Sector
    district: str
    municipality: str | None = None
    # Stadtteil/Ortsteil below the municipality (a free list per municipality in the region's
    # settings); None where the network does not work below the municipality.
    subdistrict: str | None = None
    legal_form: LegalForm | None = None
    topics: list[str] = []
    resources: list[ResourceSummary] = []
    public_profile: bool = False


class ActorRegistered(ActorProfile, IntegrationEvent):
    subject = subjects.ACTOR_REGISTERED
    registered_at: datetime

    def aggregate_id(self) -> str:
        return self.actor_id


class ActorUpdated(ActorProfile, IntegrationEvent):
    subject = subjects.ACTOR_UPDATED
    updated_at: datetime
    version: int

    def aggregate_id(self) -> str:
        return self.actor_id


class ActorRemoved(IntegrationEvent):
    subject = subjects.ACTOR_REMOVED
    actor_id: str
    removed_at: datetime

    def aggregate_id(self) -> str:
        return self.actor_id


class CooperationRecorded(IntegrationEvent):
    """Two actors cooperate; ``origin_agreement_id`` is set when a gathering's agreement led to it."""

    subject = subjects.COOPERATION_RECORDED
    cooperation_id: str
    actor_a: str
    actor_b: str
    cooperation_type: str
    since: date
    cross_sector: bool
    origin_agreement_id: str | None = None

    def aggregate_id(self) -> str:
        return self.cooperation_id


class CooperationCorrected(IntegrationEvent):
    """An editor corrected a cooperation (type, dates, topic); carries the whole corrected state."""

    subject = subjects.COOPERATION_CORRECTED
    cooperation_id: str
    cooperation_type: str
    since: date
    until: date | None = None
    topic: str | None = None
    corrected_at: datetime

    def aggregate_id(self) -> str:
        return self.cooperation_id


class CooperationDeleted(IntegrationEvent):
    """An editor deleted a cooperation recorded by mistake: it never existed."""

    subject = subjects.COOPERATION_DELETED
    cooperation_id: str
    deleted_at: datetime

    def aggregate_id(self) -> str:
        return self.cooperation_id


class CooperationEnded(IntegrationEvent):
    subject = subjects.COOPERATION_ENDED
    cooperation_id: str
    until: date

    def aggregate_id(self) -> str:
        return self.cooperation_id


class ResourceOffered(IntegrationEvent):
    """An actor offers (or needs) a resource; amounts are organisational, not personal."""

    subject = subjects.RESOURCE_OFFERED
    actor_id: str
    resource_id: str
    kind: ResourceKind
    direction: Literal["offered", "needed"] = "offered"
    description: str = ""
    amount: float | None = None

    def aggregate_id(self) -> str:
        return self.actor_id


class ContactAdded(IntegrationEvent):
    """Region-private: a contact person of an actor with the recorded consent."""

    subject = subjects.CONTACT_ADDED
    person_id: str
    actor_id: str
    name: str
    email: str
    role: str | None = None
    consent_purpose: str
    consent_at: datetime
    consent_source: str

    def aggregate_id(self) -> str:
        return self.person_id


class PersonErased(IntegrationEvent):
    """Deprecated (carries the address, which then outlives the erasure in the stream): still
    handled for messages published before v2; actors publishes PersonErasedV2 only."""

    subject = subjects.PERSON_ERASED
    person_id: str
    email: str
    erased_at: datetime

    def aggregate_id(self) -> str:
        return self.person_id


class PersonErasedV2(IntegrationEvent):
    """GDPR Art. 17: every service erases or anonymises what it holds about this person and
    deletes the region-private messages it published about them. Carries only the pseudonymous
    ``person_id`` (see ``person_id_for``), never the address or the name."""

    subject = subjects.PERSON_ERASED_V2
    person_id: str
    erased_at: datetime

    def aggregate_id(self) -> str:
        return self.person_id
