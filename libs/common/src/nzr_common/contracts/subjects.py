"""Every subject of the platform, written out. Never derived from class names.

``pub`` subjects are shareable (the hub sources them); ``priv`` subjects carry personal data
and stay in their region.
"""

from nzr_common.contracts.base import private, shareable

# actors
ACTOR_REGISTERED = shareable("actors", "actor_registered")
ACTOR_UPDATED = shareable("actors", "actor_updated")
ACTOR_REMOVED = shareable("actors", "actor_removed")
COOPERATION_RECORDED = shareable("actors", "cooperation_recorded")
COOPERATION_ENDED = shareable("actors", "cooperation_ended")
COOPERATION_CORRECTED = shareable("actors", "cooperation_corrected")
COOPERATION_DELETED = shareable("actors", "cooperation_deleted")
RESOURCE_OFFERED = shareable("actors", "resource_offered")
CONTACT_ADDED = private("actors", "contact_added")
PERSON_ERASED = private("actors", "person_erased")
PERSON_ERASED_V2 = private("actors", "person_erased", version=2)

# events (gatherings)
EVENT_PUBLISHED = shareable("events", "event_published")
EVENT_UPDATED = shareable("events", "event_updated")
EVENT_CANCELLED = shareable("events", "event_cancelled")
EVENT_COMPLETED = shareable("events", "event_completed")
ATTENDANCE_RECORDED = shareable("events", "attendance_recorded")
REGISTRATION_CONFIRMED = private("events", "registration_confirmed")
REGISTRATION_CANCELLED = private("events", "registration_cancelled")
REGISTRATION_RECEIVED = private("events", "registration_received")
REGISTRATION_LINKS_REQUESTED = private("events", "registration_links_requested")
PARTICIPANT_NOTICE = private("events", "participant_notice")
AGREEMENT_RECORDED = shareable("events", "agreement_recorded")
AGREEMENT_STATUS_CHANGED = shareable("events", "agreement_status_changed")
RECOMMENDATION_RECORDED = shareable("events", "recommendation_recorded")

# newsletter
SUBSCRIPTION_REQUESTED = private("newsletter", "subscription_requested")
SUBSCRIPTION_CONFIRMED = shareable("newsletter", "subscription_confirmed")
UNSUBSCRIBED = shareable("newsletter", "unsubscribed")
LIST_REACH_CHANGED = shareable("newsletter", "list_reach_changed")
CAMPAIGN_SENT = shareable("newsletter", "campaign_sent")

# funding (the catalogue events are published by the state and sourced by every region)
FUNDING_PROGRAM_PUBLISHED = shareable("funding", "program_published")
FUNDING_PROGRAM_UPDATED = shareable("funding", "program_updated")
FUNDING_PROGRAM_WITHDRAWN = shareable("funding", "program_withdrawn")
FUNDING_DEADLINE_APPROACHING = shareable("funding", "deadline_approaching")
FUNDING_SEARCH_PERFORMED = shareable("funding", "search_performed")
FUNDING_MATCH_REQUESTED = shareable("funding", "match_requested")

# reporting
GOAL_DEFINED = shareable("reporting", "goal_defined")
MEASURE_STATUS_CHANGED = shareable("reporting", "measure_status_changed")
REGION_HEARTBEAT = shareable("reporting", "region_heartbeat")
