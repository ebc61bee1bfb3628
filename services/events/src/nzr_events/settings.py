"""Settings of the events service."""

from nzr_common.settings import ServiceSettings


class EventsSettings(ServiceSettings):
    service_name: str = "events"
    port: int = 8102
    database_url: str = "sqlite+aiosqlite:///./.var/demo/events.db"
    public_base_url: str = "http://127.0.0.1:8102"
    consent_text_version: str = "2026-01"
    public_cache_seconds: float = 1.0
