"""The declarative base and the messaging tables (outbox, inbox, dead letters, personal message
records) of the actors service; each sub-domain's tables live in its ``models`` module."""

from sqlalchemy.orm import DeclarativeBase

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)
