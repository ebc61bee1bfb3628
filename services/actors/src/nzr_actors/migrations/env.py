"""Alembic environment of the actors service."""

from nzr_actors.tables import Base
from nzr_common.migrations import run_migrations

run_migrations(Base.metadata)
