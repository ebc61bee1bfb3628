"""Reference data every service reads the same way: the districts of Saxony (a CSV file
here) and the network's topic vocabulary."""

#: The topics an actor, cooperation, event or recommendation may name (``TOPICS`` in a
#: service's settings replaces the list; actors and events must be configured alike).
NETWORK_TOPICS: tuple[str, ...] = (
    "energie_klimaschutz",
    "mobilitaet",
    "landwirtschaft_ernaehrung",
    "nachhaltiges_wirtschaften",
    "entwicklungszusammenarbeit",
    "bne",
    "demokratie_teilhabe",
    "natur_umwelt",
    "soziales",
    "kultur",
)
