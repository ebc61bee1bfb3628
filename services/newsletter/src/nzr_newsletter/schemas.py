"""What the API models of every sub-domain share: strict input and the one-line checks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nzr_common.pagination import NEXT_DESCRIPTION
from nzr_newsletter.subscriptions.rules import has_control_characters

Visibility = Literal["public", "internal"]


CampaignStatus = Literal["draft", "scheduled", "sending", "paused", "sent", "cancelled"]


def one_line(value: str | None) -> str | None:
    if value is not None and has_control_characters(value):
        raise ValueError("must be one line without control characters")
    return value


def not_null(value: object) -> object:
    """A PATCH may leave a field out; ``null`` would blank a field that must have a value."""
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SinkMessage(BaseModel):
    name: str
    received_at: datetime
    to: str
    subject: str
    links: list[str]
    language: str | None = None
    has_html: bool = False
    has_text: bool = False
    calendar: str | None = None  # the .ics attachment's method (REQUEST, CANCEL), if any


class SinkMessagePage(BaseModel):
    """A page of the development sink's mails, newest first (``nzr_common.pagination``: follow
    ``next`` or the ``Link`` header)."""

    items: list[SinkMessage]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
