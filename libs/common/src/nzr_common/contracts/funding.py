"""Events announced by the funding service (the catalogue is maintained at state level)."""

from datetime import date, datetime
from typing import Literal

from nzr_common.contracts import subjects
from nzr_common.contracts.base import IntegrationEvent

Level = Literal["bund", "land", "eu", "stiftung"]


class FundingProgramPublished(IntegrationEvent):
    """A programme was added to the catalogue; carries the whole record."""

    subject = subjects.FUNDING_PROGRAM_PUBLISHED
    programme_id: str
    name: str
    funder: str
    level: Level
    region: str
    funding_types: list[str] = []
    areas: list[str] = []
    eligible: list[str] = []
    topics: list[str] = []
    summary: str = ""
    amount_min_eur: float | None = None
    amount_max_eur: float | None = None
    funding_rate_percent: float | None = None
    deadline: dict | None = None
    url: str | None = None
    source_url: str | None = None
    verified_on: date | None = None
    revision: int = 1
    territories: list[str] = []
    districts: list[str] = []
    districts_exhaustive: bool = True
    additional_sources: list[str] = []
    taxonomy_source: str | None = None
    notes: str | None = None
    #: Legal forms an applicant must have (``LegalForm`` values of the actors contract; empty:
    #: the source names none).
    legal_forms: list[str] = []

    def aggregate_id(self) -> str:
        return self.programme_id


class FundingProgramUpdated(FundingProgramPublished):
    """A programme of the catalogue changed; carries the whole new record (``revision`` grows)."""

    subject = subjects.FUNDING_PROGRAM_UPDATED


class FundingProgramWithdrawn(IntegrationEvent):
    subject = subjects.FUNDING_PROGRAM_WITHDRAWN
    programme_id: str
    withdrawn_at: datetime
    revision: int | None = None

    def aggregate_id(self) -> str:
        return self.programme_id


class FundingDeadlineApproaching(IntegrationEvent):
    subject = subjects.FUNDING_DEADLINE_APPROACHING
    programme_id: str
    name: str
    deadline: date
    days_left: int
    # The programme's page, when the catalogue knows one (digests link to it).
    url: str | None = None
    #: "fixed", or "expected" when the date is inferred from earlier rounds (say so to people).
    deadline_certainty: str | None = None

    def aggregate_id(self) -> str:
        return self.programme_id


class FundingSearchPerformed(IntegrationEvent):
    """Anonymous usage figure: a search with its filters and hit count, no user identity."""

    subject = subjects.FUNDING_SEARCH_PERFORMED
    search_id: str
    filters: dict[str, list[str]] = {}
    district: str | None = None
    hits: int
    performed_at: datetime

    def aggregate_id(self) -> str:
        return self.search_id


class FundingMatchRequested(IntegrationEvent):
    """Counts for reporting: a matching was run (for an actor or an ad-hoc profile)."""

    subject = subjects.FUNDING_MATCH_REQUESTED
    match_id: str
    actor_id: str | None = None
    actor_kind: str | None = None
    district: str | None = None
    programmes_fully_met: int
    performed_at: datetime

    def aggregate_id(self) -> str:
        return self.match_id
