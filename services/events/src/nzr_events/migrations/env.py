"""Alembic environment of the events service."""

from nzr_common.migrations import run_migrations
from nzr_events.models import Base

run_migrations(Base.metadata)
