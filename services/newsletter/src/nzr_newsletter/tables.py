"""Tables of the newsletter service (its own database)."""

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata)
