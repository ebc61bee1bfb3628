"""Event handlers of the actors service (routing table)."""

from nzr_common.messaging import EventHandlers

handlers = EventHandlers(consumer="actors")
