"""Settings of the reporting service."""

from typing import Annotated

from pydantic import FilePath, field_validator
from pydantic_settings import NoDecode

from nzr_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    port: int = 8105
    database_url: str = "sqlite+aiosqlite:///./.var/demo/reporting.db"
    #: A region whose last event (a heartbeat at the latest) is older than this shows as stale.
    stale_after_minutes: float = 5.0
    #: Region mode: how often this region announces a RegionHeartbeat.
    heartbeat_seconds: float = 60.0
    known_regions: Annotated[list[str], NoDecode] = []
    public_base_url: str = "http://127.0.0.1:8105"
    publisher_name: str = "Landesverband Netzwerk Zukunft Regional"
    #: A GeoJSON file of district boundaries (e.g. BKG VG250 districts, keyed by AGS or RS):
    #: the dashboard draws their outlines; unset, a tile grid of the districts.
    dashboard_boundaries: FilePath | None = None
    dashboard_boundaries_attribution: str = "© GeoBasis-DE / BKG, dl-de/by-2-0"

    @field_validator("known_regions", mode="before")
    @classmethod
    def _split_regions(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
