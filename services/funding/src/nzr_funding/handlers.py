"""Event handlers of the funding service (routing table)."""

from nzr_common.messaging import EventHandlers

handlers = EventHandlers(consumer="funding")
