"""Settings of the funding service."""

from nzr_common.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    service_name: str = "funding"
    port: int = 8104
    database_url: str = "sqlite+aiosqlite:///./.var/demo/funding.db"
