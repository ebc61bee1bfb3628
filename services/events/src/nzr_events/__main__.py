from nzr_common.entrypoint import main
from nzr_events.app import create_app
from nzr_events.settings import EventsSettings

main(settings_class=EventsSettings, create_app=create_app, migrations_package="nzr_events")
