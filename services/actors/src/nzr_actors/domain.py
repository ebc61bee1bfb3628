"""Rules about actors that need no I/O."""

from dataclasses import dataclass


@dataclass(frozen=True)
class InvalidField:
    name: str
    reason: str


def check_actor_profile(
    *, district: str, topics: list[str], region_districts: set[str], known_topics: set[str]
) -> list[InvalidField]:
    """The district must belong to the region; every topic must be a configured topic."""
    problems = []
    if district not in region_districts:
        problems.append(InvalidField("district", f"{district} is not a district of this region"))
    unknown = sorted(set(topics) - known_topics)
    if unknown:
        problems.append(InvalidField("topics", f"unknown topics: {', '.join(unknown)}"))
    if len(set(topics)) != len(topics):
        problems.append(InvalidField("topics", "topics must not repeat"))
    return problems
