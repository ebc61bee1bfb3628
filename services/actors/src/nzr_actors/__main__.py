"""``python -m nzr_actors serve|migrate`` (the web app is imported only to serve)."""

from nzr_actors.settings import ActorsSettings
from nzr_common.entrypoint import main

# Guarded: the suggestions' worker process (spawned) imports this module again as ``__mp_main__``.
if __name__ == "__main__":
    main(
        settings_class=ActorsSettings, create_app="nzr_actors.app:create_app", migrations_package="nzr_actors"
    )
