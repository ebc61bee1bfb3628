"""API models of campaign statistics and the privacy notice."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CampaignStatistics(BaseModel):
    """What became of one campaign's mails, as totals (no figure names a recipient)."""

    campaign_id: str
    recipients: int
    queued: int = Field(description="Not yet handed to the mail server (waiting or in transit)")
    sent: int = Field(description="Accepted by the mail server")
    delivered: int = Field(description="Accepted and no bounce reported since")
    failed: int = Field(description="Given up without a bounce (the mail could not be built or sent)")
    bounced_hard: int
    bounced_soft: int
    unsubscribed: int = Field(description="Left through this campaign's unsubscribe link (or a complaint)")
    complaints: int = Field(description="Marked as spam by the recipient (provider feedback)")
    tracking_enabled: bool = Field(description="Opens and clicks counted: its lists' owners switched it on")
    opens: int | None = Field(description="Loads of the tracking image, in total; None when not tracked")
    clicks: int | None = Field(description="Clicks on the campaign's links, in total; None when not tracked")


class PrivacyNotice(BaseModel):
    """The newsletter's privacy notice in one language."""

    language: Literal["de", "en"]
    title: str
    paragraphs: list[str]
    tracking_lists: list[str] = Field(description="Public lists whose campaigns count opens and clicks")
