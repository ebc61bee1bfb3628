"""Every table of the events service, for the app and Alembic (``Base.metadata``)."""

from nzr_events.feedback.models import FeedbackRow
from nzr_events.gatherings.models import EventRow
from nzr_events.outcomes.models import AgreementRow, KnownActorRow, ProgressReportRow, RecommendationRow
from nzr_events.programme.models import SessionRow
from nzr_events.registrations.models import RegistrationRow
from nzr_events.series.models import SeriesRow
from nzr_events.tables import Base, messaging

__all__ = [
    "AgreementRow",
    "Base",
    "EventRow",
    "FeedbackRow",
    "KnownActorRow",
    "ProgressReportRow",
    "RecommendationRow",
    "RegistrationRow",
    "SeriesRow",
    "SessionRow",
    "messaging",
]
