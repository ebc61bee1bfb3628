from nzr_actors.app import create_app
from nzr_actors.settings import ActorsSettings
from nzr_common.entrypoint import main

main(settings_class=ActorsSettings, create_app=create_app, migrations_package="nzr_actors")
