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
    #: Where people reach this service: the links in mails (manage, feedback) start with it.
    public_base_url: str = "http://127.0.0.1:8102"
    #: The region's name as mails and pages show it.
    region_name: str = "Netzwerk Zukunft Regional"
    consent_text_version: str = "2026-01"
    public_cache_seconds: float = 1.0
    topics: Annotated[list[str], NoDecode] = list(NETWORK_TOPICS)

    @field_validator("topics", mode="before")
    @classmethod
    def _split_topics(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    #: How often the reminder loop looks for registrations to remind (seconds).
    reminder_check_seconds: float = 300.0
    reminder_first_check_seconds: float = 5.0
    #: How long after the event the feedback link stays valid (days).
    feedback_link_days: int = 90
