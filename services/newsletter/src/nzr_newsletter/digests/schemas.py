"""API models of digests."""

from __future__ import annotations

from pydantic import BaseModel


class DigestRunResult(BaseModel):
    campaign_ids: list[str]
