"""Settings of the actors service."""

from nzr_common.settings import ServiceSettings


class ActorsSettings(ServiceSettings):
    """``TOPICS`` (comma-separated, on the shared base) replaces the topic list; ``DISTRICTS_FILE``
    adds districts; ``SUBDISTRICTS`` (JSON) lists the Stadtteile/Ortsteile per municipality."""

    service_name: str = "actors"
    port: int = 8101
    database_url: str = "sqlite+aiosqlite:///./.var/demo/actors.db"
    import_max_rows: int = 20_000
    import_max_bytes: int = 20_000_000
    network_top_n: int = 10
    #: Stadtteile/Ortsteile per municipality (JSON: {"Leipzig": ["Mitte", "Nord", …]}): the names an
    #: actor's ``subdistrict`` may take, and the network's ``subdistrict=`` filter.
    subdistricts: dict[str, list[str]] = {}
    #: How often the network's version is polled to keep the suggestions ready (seconds).
    network_poll_seconds: float = 1.0
    #: From this many actors a network's region-wide suggestions are computed in a worker process.
    network_worker_from_actors: int = 1000
