"""Event handlers of the events service (routing table)."""

from nzr_common.messaging import EventHandlers

handlers = EventHandlers(consumer="events")
