"""Alembic environment of the actors service."""

import nzr_actors.actors.models
import nzr_actors.contacts.models
import nzr_actors.cooperations.models  # noqa: F401  (the sub-domains' tables join Base.metadata)
from nzr_actors.tables import Base
from nzr_common.migrations import run_migrations

run_migrations(Base.metadata)
