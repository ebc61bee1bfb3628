"""Alembic environment of the funding service."""

from nzr_common.migrations import run_migrations
from nzr_funding.tables import Base

run_migrations(Base.metadata)
