"""Alembic environment of the reporting service."""

from nzr_common.migrations import run_migrations
from nzr_reporting.tables import Base

run_migrations(Base.metadata)
