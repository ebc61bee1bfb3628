"""Settings of the funding service."""

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode

from nzr_common.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    service_name: str = "funding"
    port: int = 8104
    database_url: str = "sqlite+aiosqlite:///./.var/demo/funding.db"
    #: Region token the state-owned catalogue is published under (and read from).
    catalogue_region: str = "state"
    #: Whether this service takes catalogue changes: the state's does (and the embedded
    #: single-region run's); a region's in the multi-region set-up holds a replica only.
    catalogue_writes: bool = True
    #: How stale the in-process catalogue may be before a request checks the read model again
    #: (the catalogue is eventually consistent anyway: it arrives as events).
    catalogue_refresh_seconds: float = 0.2
    #: How often the deadline watch looks for approaching deadlines.
    deadline_watch_seconds: float = 3600.0
    #: Delay of the first round after start-up.
    deadline_watch_first_seconds: float = 5.0
    #: How often the searches gathered in memory are written to the outbox as
    #: FundingSearchPerformed (a search itself never writes).
    search_events_flush_seconds: float = 1.0
    deadline_thresholds: Annotated[list[int], NoDecode] = [30, 7]

    @field_validator("deadline_thresholds", mode="before")
    @classmethod
    def _split_thresholds(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value
