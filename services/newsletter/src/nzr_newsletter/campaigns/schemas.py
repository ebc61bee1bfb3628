"""API models of campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from nzr_common.codes import DistrictCode, TopicCode
from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_newsletter.schemas import CampaignStatus, Strict, not_null, one_line


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
    topics: list[TopicCode] = Field(default_factory=list, description="Only subscribers with one of them")
    districts: list[DistrictCode] = Field(
        default_factory=list, description="Only subscribers in these districts"
    )

    _one_line_fields = field_validator("name", "subject", "sender")(one_line)


class CampaignUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    sender: str | None = Field(default=None, max_length=320)
    body: str | None = Field(default=None, min_length=1, max_length=200_000)
    list_ids: list[str] | None = Field(default=None, min_length=1, max_length=50)
    topics: list[TopicCode] | None = None
    districts: list[DistrictCode] | None = None

    _one_line_fields = field_validator("name", "subject", "sender")(one_line)
    _required_not_null = field_validator(
        "name", "subject", "body", "list_ids", "topics", "districts", mode="before"
    )(not_null)


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


#: Orders of the campaign list (``nzr_newsletter.sorting``); default ``-created_at``, newest first.
CampaignSort = Literal[
    "created_at", "-created_at", "scheduled_at", "-scheduled_at", "name", "-name", "status", "-status"
]


class CampaignPage(BaseModel):
    """A page of campaigns (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[CampaignRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)


class SendRequest(Strict):
    scheduled_at: datetime | None = Field(default=None, description="Empty: send now")


class TestSendRequest(Strict):
    emails: list[str] = Field(min_length=1, max_length=10)
    name: str = Field(default="Erika Mustermann", max_length=200)

    _name_one_line = field_validator("name")(one_line)


class TestSendResult(BaseModel):
    sent: list[str]


class PreviewRead(BaseModel):
    subject: str
    text: str
    html: str
    audience: int
