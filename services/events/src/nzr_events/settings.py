"""Settings of the events service."""

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode

from nzr_common.reference import NETWORK_TOPICS
from nzr_common.settings import ServiceSettings


class EventsSettings(ServiceSettings):
    """``TOPICS`` (comma-separated) replaces the topic list, as in actors."""

    service_name: str = "events"
    port: int = 8102
    database_url: str = "sqlite+aiosqlite:///./.var/demo/events.db"
    public_base_url: str = "http://127.0.0.1:8102"
    consent_text_version: str = "2026-01"
    public_cache_seconds: float = 1.0
    topics: Annotated[list[str], NoDecode] = list(NETWORK_TOPICS)

    @field_validator("topics", mode="before")
    @classmethod
    def _split_topics(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
