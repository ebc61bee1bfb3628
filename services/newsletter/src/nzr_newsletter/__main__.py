from nzr_common.entrypoint import main
from nzr_newsletter.app import create_app
from nzr_newsletter.settings import NewsletterSettings

main(settings_class=NewsletterSettings, create_app=create_app, migrations_package="nzr_newsletter")
