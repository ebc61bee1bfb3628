"""API models of bounce reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from nzr_newsletter.schemas import Strict


class BounceReportIn(Strict):
    email: str = Field(max_length=320)
    kind: Literal["hard", "soft", "complaint"] = Field(
        description="complaint: the recipient marked the mail as spam (the address leaves every list)"
    )
    reason: str = Field(default="", max_length=500)
    status: str | None = Field(default=None, max_length=16)
    message_id: str | None = Field(default=None, max_length=300)


class BounceResult(BaseModel):
    recorded: int
    blocked: int
