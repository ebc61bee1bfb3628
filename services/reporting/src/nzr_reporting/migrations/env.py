"""Alembic environment of the reporting service."""

from nzr_common.migrations import run_migrations
from nzr_reporting.goals import models as _goals  # noqa: F401  (registers the tables)
from nzr_reporting.indicators import models as _indicators  # noqa: F401
from nzr_reporting.state import models as _state  # noqa: F401
from nzr_reporting.tables import Base

run_migrations(Base.metadata)
