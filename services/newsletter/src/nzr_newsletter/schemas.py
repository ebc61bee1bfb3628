"""API schemas of the newsletter service (separate from the tables)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nzr_newsletter.domain import has_control_characters

Visibility = Literal["public", "internal"]
CampaignStatus = Literal["draft", "scheduled", "sending", "paused", "sent", "cancelled"]


def _one_line(value: str | None) -> str | None:
    if value is not None and has_control_characters(value):
        raise ValueError("must be one line without control characters")
    return value


def _not_null(value: object) -> object:
    """A PATCH may leave a field out; ``null`` would blank a field that must have a value."""
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListCreate(Strict):
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=2000)
    topic: str | None = Field(default=None, max_length=80)
    visibility: Visibility = "public"
    registration_default: bool = Field(
        default=False, description="Event registrations with mailing-list consent join this list"
    )
    digest: bool = Field(default=False, description="Subscribers get the automatic digest")

    _name_one_line = field_validator("name")(_one_line)


class ListUpdate(Strict):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    topic: str | None = None
    visibility: Visibility | None = None
    registration_default: bool | None = None
    digest: bool | None = None

    _name_one_line = field_validator("name")(_one_line)
    _required_not_null = field_validator(
        "name", "description", "visibility", "registration_default", "digest", mode="before"
    )(_not_null)


class ListRead(BaseModel):
    id: str
    name: str
    description: str
    topic: str | None
    visibility: Visibility
    registration_default: bool
    digest: bool
    confirmed_subscribers: int | None = None
    created_at: datetime


class SubscribeRequest(Strict):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    list_ids: list[str] = Field(min_length=1, max_length=50)
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    topics: list[str] = Field(default_factory=list, max_length=30)
    consent_text_version: str = Field(min_length=1, max_length=80)

    _name_one_line = field_validator("name")(_one_line)


class LinksRequest(Strict):
    email: str = Field(max_length=320)


class SubscribeAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str = (
        "If the address can receive mail, a confirmation link is on its way. "
        "Only the click on that link subscribes."
    )


class ImportRow(Strict):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    topics: list[str] = Field(default_factory=list, max_length=30)

    _name_one_line = field_validator("name")(_one_line)


class ImportRequest(Strict):
    list_ids: list[str] = Field(min_length=1, max_length=50)
    consent_text_version: str = Field(min_length=1, max_length=80)
    rows: list[ImportRow] = Field(min_length=1, max_length=10_000)


class ImportRowError(BaseModel):
    row: int
    email: str
    reason: str


class ImportReport(BaseModel):
    invited: int
    already_confirmed: int
    errors: list[ImportRowError]


class TokenStatus(BaseModel):
    status: str
    detail: str


class SubscriptionRead(BaseModel):
    list_id: str
    list_name: str
    status: str
    source: str
    consent_text_version: str
    requested_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


class Preferences(BaseModel):
    email: str
    name: str
    district: str | None
    topics: list[str]
    subscriptions: list[SubscriptionRead]
    available_lists: list[ListRead]


class PreferencesUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    district: str | None = Field(default=None, pattern=r"^\d{8}$")
    topics: list[str] | None = Field(default=None, max_length=30)
    list_ids: list[str] | None = Field(default=None, description="The lists to stay or be on")

    _name_one_line = field_validator("name")(_one_line)


class SubscriberExport(BaseModel):
    subscriber_id: str
    email: str
    name: str
    district: str | None
    topics: list[str]
    blocked: bool
    created_at: datetime
    subscriptions: list[SubscriptionRead]
    deliveries: list[dict]
    bounces: list[dict]


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)


class PersonMailRecord(BaseModel):
    """A transactional mail (confirmation, test send) to the person."""

    recipient: str
    purpose: str
    status: str
    created_at: datetime
    sent_at: datetime | None


class PersonExport(BaseModel):
    """Everything the newsletter service holds about one person (GDPR Art. 15)."""

    person_id: str
    email: str
    exported_at: datetime
    subscriber: SubscriberExport | None
    mails: list[PersonMailRecord]


class SubscriberRead(BaseModel):
    id: str
    email: str
    name: str
    district: str | None
    topics: list[str]
    blocked: bool
    blocked_reason: str | None
    soft_bounces: int
    subscriptions: list[SubscriptionRead]


class SubscriberPage(BaseModel):
    items: list[SubscriberRead]
    total: int


class CampaignCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(
        min_length=1, max_length=300, description="Jinja2 template of one line (no personal fields)"
    )
    sender: str | None = Field(
        default=None, max_length=320, description="From header; the service's default sender when empty"
    )
    body: str = Field(
        min_length=1,
        max_length=200_000,
        description="Jinja2 template in Markdown; `{{ name }}`, `{{ unsubscribe_url }}`, "
        "`{{ preferences_url }}` are personal",
    )
    list_ids: list[str] = Field(min_length=1, max_length=50)
    topics: list[str] = Field(default_factory=list, description="Only subscribers with one of them")
    districts: list[str] = Field(default_factory=list, description="Only subscribers in these districts")

    _one_line_fields = field_validator("name", "subject", "sender")(_one_line)


class CampaignUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    sender: str | None = Field(default=None, max_length=320)
    body: str | None = Field(default=None, min_length=1, max_length=200_000)
    list_ids: list[str] | None = Field(default=None, min_length=1, max_length=50)
    topics: list[str] | None = None
    districts: list[str] | None = None

    _one_line_fields = field_validator("name", "subject", "sender")(_one_line)
    _required_not_null = field_validator(
        "name", "subject", "body", "list_ids", "topics", "districts", mode="before"
    )(_not_null)


class CampaignStats(BaseModel):
    recipients: int
    queued: int
    sending: int
    sent: int
    failed: int
    bounced: int
    unsubscribed_after: int


class CampaignRead(BaseModel):
    id: str
    kind: str
    name: str
    subject: str
    sender: str | None
    body: str
    list_ids: list[str]
    topics: list[str]
    districts: list[str]
    status: CampaignStatus
    scheduled_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stats: CampaignStats | None = None


class CampaignPage(BaseModel):
    items: list[CampaignRead]


class SendRequest(Strict):
    scheduled_at: datetime | None = Field(default=None, description="Empty: send now")


class TestSendRequest(Strict):
    emails: list[str] = Field(min_length=1, max_length=10)
    name: str = Field(default="Erika Mustermann", max_length=200)

    _name_one_line = field_validator("name")(_one_line)


class TestSendResult(BaseModel):
    sent: list[str]


class PreviewRead(BaseModel):
    subject: str
    text: str
    html: str
    audience: int


class BounceReportIn(Strict):
    email: str = Field(max_length=320)
    kind: Literal["hard", "soft"]
    reason: str = Field(default="", max_length=500)
    status: str | None = Field(default=None, max_length=16)
    message_id: str | None = Field(default=None, max_length=300)


class BounceResult(BaseModel):
    recorded: int
    blocked: int


class SinkMessage(BaseModel):
    name: str
    received_at: datetime
    to: str
    subject: str
    links: list[str]


class DigestRunResult(BaseModel):
    campaign_ids: list[str]
