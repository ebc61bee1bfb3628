"""Settings of the actors service."""

from nzr_common.settings import ServiceSettings


class ActorsSettings(ServiceSettings):
    """``TOPICS`` (comma-separated, on the shared base) replaces the topic list; ``DISTRICTS_FILE``
    adds districts."""

    service_name: str = "actors"
    port: int = 8101
    database_url: str = "sqlite+aiosqlite:///./.var/demo/actors.db"
    import_max_rows: int = 20_000
    import_max_bytes: int = 20_000_000
    network_top_n: int = 10
