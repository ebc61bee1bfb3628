"""The funding service's routing table, gathered from its sub-domains.

The catalogue arrives from the state's stream (``from_region=catalogue_region``), so a region
keeps its own searchable copy; the actor read model comes from the own region's stream.
"""

from nzr_common.messaging import EventHandlers
from nzr_funding.bootstrap import Deps
from nzr_funding.catalogue import handlers as catalogue_handlers
from nzr_funding.matching import handlers as matching_handlers
from nzr_funding.settings import FundingSettings


def build_handlers(settings: FundingSettings) -> EventHandlers[Deps]:
    """The routing table (the catalogue's source region is a setting)."""
    handlers: EventHandlers[Deps] = EventHandlers(consumer="funding")
    catalogue_handlers.register(handlers, catalogue_region=settings.catalogue_region)
    matching_handlers.register(handlers)
    return handlers
