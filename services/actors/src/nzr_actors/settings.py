"""Settings of the actors service."""

from nzr_common.settings import ServiceSettings

DEFAULT_TOPICS = [
    "energie_klimaschutz", "mobilitaet", "landwirtschaft_ernaehrung", "nachhaltiges_wirtschaften",
    "entwicklungszusammenarbeit", "bne", "demokratie_teilhabe", "natur_umwelt", "soziales", "kultur",
]


class ActorsSettings(ServiceSettings):
    service_name: str = "actors"
    port: int = 8101
    database_url: str = "sqlite+aiosqlite:///./.var/demo/actors.db"
    topics: list[str] = DEFAULT_TOPICS
