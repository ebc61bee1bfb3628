"""legal form of actors; district-wide duplicate check

``actors.legal_form`` holds the ``LegalForm`` code of the contracts (``ev``, ``ggmbh``, …);
NULL for actors recorded before (not known, which is not the same as ``keine``).
``ix_actors_district_name`` (district, name_key, id) serves the likely-duplicate check, which
compares a name with every actor of the district, as an index-only read.

Revision ID: 0006_actorsdata_legal_form
Revises: 0005
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_actorsdata_legal_form"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("actors", sa.Column("legal_form", sa.String(length=20), nullable=True))
    op.create_index("ix_actors_district_name", "actors", ["district", "name_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_actors_district_name", table_name="actors")
    with op.batch_alter_table("actors") as batch:
        batch.drop_column("legal_form")
