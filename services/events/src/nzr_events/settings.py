"""Settings of the events service."""

from nzr_common.settings import ServiceSettings


class EventsSettings(ServiceSettings):
    service_name: str = "events"
    port: int = 8102
    database_url: str = "sqlite+aiosqlite:///./.var/demo/events.db"
