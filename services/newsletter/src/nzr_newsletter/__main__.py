"""``python -m nzr_newsletter serve|migrate`` (the web app is imported only to serve)."""

from nzr_common.entrypoint import main
from nzr_newsletter.settings import NewsletterSettings

main(
    settings_class=NewsletterSettings,
    create_app="nzr_newsletter.app:create_app",
    migrations_package="nzr_newsletter",
)
