"""Event handlers of the newsletter service (routing table)."""

from nzr_common.messaging import EventHandlers

handlers = EventHandlers(consumer="newsletter")
