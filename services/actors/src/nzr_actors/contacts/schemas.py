"""API models of contact persons."""

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from nzr_common.pagination import NEXT_DESCRIPTION

#: Orders of an actor's contact persons (``-`` descending); ties are broken by id.
ContactSort = Literal["name", "-name", "email", "-email", "created_at", "-created_at"]


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: str | None = Field(default=None, max_length=200)
    consent_purpose: str = Field(
        min_length=3, max_length=500, description="what the person agreed to, e.g. 'Kontakt im Netzwerk'"
    )
    consent_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    consent_source: str = Field(
        min_length=2, max_length=200, description="where the consent was given, e.g. 'Anmeldeformular'"
    )


class ContactRead(BaseModel):
    id: str
    person_id: str
    actor_id: str
    name: str
    email: str
    role: str | None
    consent_purpose: str
    consent_at: datetime
    consent_source: str
    created_at: datetime


class ContactPage(BaseModel):
    """A page of contact persons (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[ContactRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
