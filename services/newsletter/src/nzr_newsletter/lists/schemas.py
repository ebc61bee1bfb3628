"""API models of lists."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from nzr_common.codes import TopicCode
from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_newsletter.schemas import Strict, Visibility, not_null, one_line


class ListCreate(Strict):
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=2000)
    topic: TopicCode | None = None
    visibility: Visibility = "public"
    registration_default: bool = Field(
        default=False, description="Event registrations with mailing-list consent join this list"
    )
    digest: bool = Field(default=False, description="Subscribers get the automatic digest")
    tracking_enabled: bool = Field(
        default=False,
        description="Count opens and clicks of this list's campaigns, as totals per campaign "
        "(never who opened or clicked); the privacy notice names the list",
    )

    _name_one_line = field_validator("name")(one_line)


class ListUpdate(Strict):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    topic: TopicCode | None = None
    visibility: Visibility | None = None
    registration_default: bool | None = None
    digest: bool | None = None
    tracking_enabled: bool | None = None

    _name_one_line = field_validator("name")(one_line)
    _required_not_null = field_validator(
        "name",
        "description",
        "visibility",
        "registration_default",
        "digest",
        "tracking_enabled",
        mode="before",
    )(not_null)


class ListRead(BaseModel):
    id: str
    name: str
    description: str
    topic: str | None
    visibility: Visibility
    registration_default: bool
    digest: bool
    tracking_enabled: bool = False
    confirmed_subscribers: int | None = None
    created_at: datetime


class ListPage(BaseModel):
    """A page of mailing lists (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[ListRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
