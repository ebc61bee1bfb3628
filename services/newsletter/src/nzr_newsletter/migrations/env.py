"""Alembic environment of the newsletter service."""

from nzr_common.migrations import run_migrations
from nzr_newsletter.metadata import Base

run_migrations(Base.metadata)
