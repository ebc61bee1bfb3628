"""API models of subscribers: preferences, exports, the admin list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_newsletter.lists.schemas import ListRead
from nzr_newsletter.schemas import Strict, one_line


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
    language: Literal["de", "en"] = "de"
    subscriptions: list[SubscriptionRead]
    available_lists: list[ListRead]


class PreferencesUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    district: DistrictCode | None = None
    topics: list[TopicCode] | None = Field(default=None, max_length=30)
    list_ids: list[str] | None = Field(
        default=None,
        max_length=50,
        description="The lists to stay or be on: public lists, or lists one is on already",
    )
    language: Literal["de", "en"] | None = Field(default=None, description="Language of mails and pages")

    _name_one_line = field_validator("name")(one_line)


class SubscriberExport(BaseModel):
    subscriber_id: str
    email: str
    name: str
    district: str | None
    topics: list[str]
    language: str = "de"
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


#: The states of a subscription to a list (the subscriber list filters by them).
SubscriptionStatus = Literal["pending", "confirmed", "unsubscribed"]
#: Orders of the subscriber list (``nzr_newsletter.sorting``); default ``email``.
SubscriberSort = Literal["email", "-email", "name", "-name", "created_at", "-created_at"]


class SubscriberPage(BaseModel):
    """A page of subscribers (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[SubscriberRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class ListChoice(BaseModel):
    id: str
    name: str
    description: str
    subscribed: bool


class TopicChoice(BaseModel):
    value: str
    label: str
    chosen: bool


class PreferencesForm(BaseModel):
    """What the preferences page shows: the lists one may be on and the topics to choose from."""

    email: str
    language: Literal["de", "en"]
    lists: list[ListChoice]
    topics: list[TopicChoice]
