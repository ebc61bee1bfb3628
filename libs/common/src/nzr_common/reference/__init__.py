"""Reference data every service reads the same way: the districts of Saxony (a CSV file
here) and the network's topic vocabulary."""

from nzr_common.reference.vocabulary import PLATFORM_TOPICS

#: The topics an actor, cooperation, event or recommendation may name (``TOPICS`` in the shared
#: settings replaces the list): the platform's topics, with their labels in ``vocabulary``.
NETWORK_TOPICS: tuple[str, ...] = tuple(PLATFORM_TOPICS)
