"""API models of cooperations."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nzr_actors.actors.schemas import MAX_DESCRIPTION
from nzr_common.pagination import NEXT_DESCRIPTION

CooperationType = Literal["projekt", "veranstaltung", "vereinbarung", "austausch", "ressourcen"]
CooperationOrigin = Literal["manual", "agreement", "event"]
#: Orders of the cooperations list (``-`` descending; an open ``until`` counts as the latest);
#: ties are broken by id.
CooperationSort = Literal["since", "-since", "until", "-until", "created_at", "-created_at"]


class CooperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_a: str = Field(max_length=36)
    actor_b: str = Field(max_length=36)
    type: CooperationType
    topic: str | None = None
    since: date
    until: date | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    actor_a_region: str | None = Field(
        default=None, max_length=40, description="region of actor_a (this one); required across regions"
    )
    actor_b_region: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z0-9_-]+$",
        description="region of actor_b when not this one (needs a token with the `state` role)",
    )


class CooperationEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: date


class CooperationCorrection(BaseModel):
    """A correction of what was recorded wrongly: only the fields sent change (send ``If-Match``)."""

    model_config = ConfigDict(extra="forbid")

    type: CooperationType | None = None
    topic: str | None = None
    since: date | None = None
    until: date | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> "CooperationCorrection":
        for name in ("type", "since"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CooperationRead(BaseModel):
    id: str
    actor_a: str
    actor_b: str
    type: CooperationType
    topic: str | None
    description: str | None
    since: date
    until: date | None
    origin: CooperationOrigin
    origin_id: str | None
    actor_b_region: str | None = Field(default=None, description="set when actor_b is of another region")
    cross_sector: bool = Field(description="false when actor_b's sector is unknown here (other region)")
    version: int = Field(default=1, description="the ETag; send it as If-Match to correct or delete")
    created_at: datetime


class CooperationPage(BaseModel):
    """A page of cooperations (``nzr_common.pagination``: follow ``next`` or the ``Link`` header)."""

    items: list[CooperationRead]
    total: int
    next: str | None = Field(None, description=NEXT_DESCRIPTION)
