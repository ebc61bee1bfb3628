"""Settings of the reporting service."""

from nzr_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    port: int = 8105
    database_url: str = "sqlite+aiosqlite:///./.var/demo/reporting.db"
