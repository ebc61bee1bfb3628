"""API models of subscribing, importing and confirming."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from nzr_common.codes import DistrictCode, TopicCode
from nzr_newsletter.schemas import Strict, one_line


class SubscribeRequest(Strict):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    list_ids: list[str] = Field(min_length=1, max_length=50)
    district: DistrictCode | None = None
    topics: list[TopicCode] = Field(default_factory=list, max_length=30)
    consent_text_version: str = Field(min_length=1, max_length=80)

    _name_one_line = field_validator("name")(one_line)


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
    district: DistrictCode | None = None
    topics: list[TopicCode] = Field(default_factory=list, max_length=30)

    _name_one_line = field_validator("name")(one_line)


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
    lists: list[str] = Field(default_factory=list, description="Names of the lists concerned")
