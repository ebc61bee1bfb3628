"""Settings of the reporting service."""

from typing import Annotated

from pydantic import FilePath, field_validator, model_validator
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
    #: Where the open data is reachable from outside; default: this host on the service's own
    #: port (so it follows ``nzr run --port-offset``).
    public_base_url: str = ""
    publisher_name: str = "Landesverband Netzwerk Zukunft Regional"
    #: A GeoJSON file of district boundaries (e.g. BKG VG250 districts, keyed by AGS or RS):
    #: the dashboard draws their outlines; unset, a tile grid of the districts.
    dashboard_boundaries: FilePath | None = None
    dashboard_boundaries_attribution: str = "© GeoBasis-DE / BKG, dl-de/by-2-0"

    #: DCAT-AP.de: the delivering body from http://dcat-ap.de/def/contributors/ (GovData).
    dcat_contributor_id: str = "http://dcat-ap.de/def/contributors/freistaatSachsen"
    #: DCAT-AP.de contact point (vcard:hasEmail).
    open_data_contact_email: str = "opendata@netzwerk-zukunft-regional.de"
    #: Licence of the open data (a URI of http://dcat-ap.de/def/licenses/).
    open_data_license: str = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"

    @model_validator(mode="after")
    def _public_base_url_on_own_port(self) -> "ReportingSettings":
        if not self.public_base_url:
            self.public_base_url = f"http://127.0.0.1:{self.port}"
        return self

    @field_validator("known_regions", mode="before")
    @classmethod
    def _split_regions(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
