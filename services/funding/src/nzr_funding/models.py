"""Every table of the funding service: importing this module registers each sub-domain's
tables on ``Base.metadata`` (the app and the migrations use it)."""

from nzr_funding.alerts.models import SavedSearchRow, SearchAlertRow
from nzr_funding.catalogue.models import CatalogueEntryRow, ProgrammeRow, ProjectionStateRow
from nzr_funding.deadlines.models import DeadlineAnnouncementRow
from nzr_funding.matching.models import ActorRow
from nzr_funding.tables import Base, messaging

metadata = Base.metadata

__all__ = [
    "ActorRow",
    "Base",
    "CatalogueEntryRow",
    "DeadlineAnnouncementRow",
    "ProgrammeRow",
    "ProjectionStateRow",
    "SavedSearchRow",
    "SearchAlertRow",
    "messaging",
    "metadata",
]
