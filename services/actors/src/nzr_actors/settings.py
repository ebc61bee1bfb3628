"""Settings of the actors service."""

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode

from nzr_common.reference import NETWORK_TOPICS
from nzr_common.settings import ServiceSettings

DEFAULT_TOPICS = list(NETWORK_TOPICS)


class ActorsSettings(ServiceSettings):
    """``TOPICS`` (comma-separated) replaces the topic list; ``DISTRICTS_FILE`` adds districts."""

    service_name: str = "actors"
    port: int = 8101
    database_url: str = "sqlite+aiosqlite:///./.var/demo/actors.db"
    topics: Annotated[list[str], NoDecode] = DEFAULT_TOPICS
    import_max_rows: int = 20_000
    import_max_bytes: int = 20_000_000
    network_top_n: int = 10

    @field_validator("topics", mode="before")
    @classmethod
    def _split_topics(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
