"""``python -m nzr_events serve|migrate`` (the web app is imported only to serve)."""

from nzr_common.entrypoint import main
from nzr_events.settings import EventsSettings

main(settings_class=EventsSettings, create_app="nzr_events.app:create_app", migrations_package="nzr_events")
