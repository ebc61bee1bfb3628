"""Events announced by the newsletter service."""

from datetime import datetime

from nzr_common.contracts import subjects
from nzr_common.contracts.base import IntegrationEvent


class SubscriptionRequested(IntegrationEvent):
    subject = subjects.SUBSCRIPTION_REQUESTED
    subscriber_id: str
    list_id: str
    email: str
    source: str
    requested_at: datetime

    def aggregate_id(self) -> str:
        return self.subscriber_id


class SubscriptionConfirmed(IntegrationEvent):
    """Shareable: a double opt-in completed; a pseudonymous id and counts, never the address."""

    subject = subjects.SUBSCRIPTION_CONFIRMED
    subscriber_id: str
    list_id: str
    source: str
    district: str | None = None
    topics: list[str] = []
    confirmed_subscribers: int
    confirmed_at: datetime

    def aggregate_id(self) -> str:
        return self.subscriber_id


class Unsubscribed(IntegrationEvent):
    """Shareable: a subscriber left a list (``campaign_id`` when the click came from a mail)."""

    subject = subjects.UNSUBSCRIBED
    subscriber_id: str
    list_id: str
    campaign_id: str | None = None
    confirmed_subscribers: int
    unsubscribed_at: datetime

    def aggregate_id(self) -> str:
        return self.subscriber_id


class ListReachChanged(IntegrationEvent):
    """Counts only: confirmed subscribers of a list, optionally per district."""

    subject = subjects.LIST_REACH_CHANGED
    list_id: str
    confirmed_subscribers: int
    by_district: dict[str, int] = {}
    as_of: datetime

    def aggregate_id(self) -> str:
        return self.list_id


class CampaignSent(IntegrationEvent):
    subject = subjects.CAMPAIGN_SENT
    campaign_id: str
    list_ids: list[str]
    recipients: int
    delivered: int
    bounced: int
    finished_at: datetime

    def aggregate_id(self) -> str:
        return self.campaign_id
