"""Settings of the newsletter service."""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator

from nzr_common.settings import ServiceSettings

BounceAction = Literal["block", "unsubscribe", "none"]


class NewsletterSettings(ServiceSettings):
    service_name: str = "newsletter"
    port: int = 8103
    database_url: str = "sqlite+aiosqlite:///./.var/demo/newsletter.db"
    # Announcements handled per consumer transaction (``CONSUMER_BATCH_SIZE``). Smaller than the
    # platform's 500: the mails of a batch become sendable when it commits, so in a registration
    # burst the sender starts after the first 100 instead of waiting for 500 to be rendered.
    consumer_batch_size: int = 100

    public_base_url: str = "http://127.0.0.1:8103"
    # Where digests link an event or a funding programme to (the services' public addresses).
    events_public_url: str = "http://127.0.0.1:8102"
    funding_public_url: str = "http://127.0.0.1:8104"
    sender: str = "Netzwerk Zukunft Regional <newsletter@nzr.invalid>"
    token_secret: SecretStr | None = None  # defaults to JWT_SECRET
    confirm_token_days: int = 7
    unsubscribe_token_days: int = 365
    preferences_token_days: int = 30
    confirm_resend_seconds: int = 300

    smtp_host: str | None = None  # None: the embedded sink (development only)
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = 30.0
    smtp_concurrency: int = 10
    rate_per_second: float = 0  # 0: unlimited
    rate_per_hour: int = 0  # 0: unlimited
    max_attempts: int = 5
    # Transactional mails (registration journey) retry longer: 12 attempts with the back-off
    # below (30 s doubling, capped at 6 h) span about 14.5 hours before one is given up as failed.
    mail_max_attempts: int = 12
    claim_ahead: int = 5  # rows claimed per connection ahead of sending (resent after a crash)
    retry_base_seconds: float = 30.0
    delivery_poll_seconds: float = 0.5
    sender_lease_seconds: float = 15.0

    smtp_sink_dir: Path = Path(".var/mail")
    smtp_sink_port: int = 0  # 0: any free port (the sink is only reached from inside the service)
    # SMTP_HOST/SMTP_PORT is a development mail sink in a process of its own (``nzr run`` starts
    # one: ``python -m nzr_newsletter.sink``) writing to SMTP_SINK_DIR: the development mail
    # pages show that folder.
    smtp_is_sink: bool = False

    soft_bounce_threshold: int = 3
    hard_bounce_action: BounceAction = "block"
    soft_bounce_action: BounceAction = "block"
    bounce_webhook_secret: SecretStr | None = None

    # Campaign templates are editors' code: rendered in a separate process within these limits.
    template_render_seconds: float = 5.0
    template_max_chars: int = 1_000_000  # rendered subject or body
    template_memory_mb: int = 512
    template_workers: int = 2  # rendering processes at a time; more wait for a free one

    digest_interval_hours: float = 168.0
    digest_check_seconds: float = 300.0

    @model_validator(mode="after")
    def _real_smtp_outside_development(self) -> "NewsletterSettings":
        if self.environment == "production" and not self.smtp_host:
            raise ValueError("SMTP_HOST must be set outside development (the sink is for development)")
        return self

    @property
    def uses_sink(self) -> bool:
        """The service runs the development sink itself (no SMTP_HOST)."""
        return not self.smtp_host

    @property
    def shows_sink(self) -> bool:
        """A development sink writes to SMTP_SINK_DIR: its own, or one of its own process."""
        return self.uses_sink or self.smtp_is_sink

    def signing_secret(self) -> str:
        secret = self.token_secret or self.jwt_secret
        return secret.get_secret_value()
