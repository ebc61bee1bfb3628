"""Alembic environment of the funding service."""

from nzr_common.migrations import run_migrations
from nzr_funding.models import metadata

run_migrations(metadata)
