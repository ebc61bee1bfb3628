"""The declarative base of the events service (its own database) and its messaging tables;
the sub-domains' tables are in their ``models`` modules (all of them: ``nzr_events.models``)."""

from sqlalchemy.orm import DeclarativeBase

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)
