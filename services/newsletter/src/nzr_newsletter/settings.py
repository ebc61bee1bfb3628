"""Settings of the newsletter service."""

from nzr_common.settings import ServiceSettings


class NewsletterSettings(ServiceSettings):
    service_name: str = "newsletter"
    port: int = 8103
    database_url: str = "sqlite+aiosqlite:///./.var/demo/newsletter.db"
