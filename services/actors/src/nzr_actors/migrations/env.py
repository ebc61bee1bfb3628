"""Alembic environment of the actors service."""

from nzr_common.migrations import run_migrations

from nzr_actors.tables import Base

run_migrations(Base.metadata)
