"""Settings of the events service."""

from nzr_common.settings import ServiceSettings


class EventsSettings(ServiceSettings):
    """``TOPICS`` (comma-separated, on the shared base) replaces the topic list, as in every service."""

    service_name: str = "events"
    port: int = 8102
    database_url: str = "sqlite+aiosqlite:///./.var/demo/events.db"
    #: Where people reach this service: the links in mails (manage, feedback) start with it.
    public_base_url: str = "http://127.0.0.1:8102"
    #: The region's name as mails and pages show it.
    region_name: str = "Netzwerk Zukunft Regional"
    consent_text_version: str = "2026-01"
    public_cache_seconds: float = 1.0
    #: How often the reminder loop looks for registrations to remind (seconds).
    reminder_check_seconds: float = 300.0
    reminder_first_check_seconds: float = 5.0
    #: How long after the event the feedback link stays valid (days).
    feedback_link_days: int = 90
