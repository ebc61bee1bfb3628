"""``python -m nzr_actors serve|migrate`` (the web app is imported only to serve)."""

from nzr_actors.settings import ActorsSettings
from nzr_common.entrypoint import main

main(settings_class=ActorsSettings, create_app="nzr_actors.app:create_app", migrations_package="nzr_actors")
