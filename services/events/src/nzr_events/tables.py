"""The declarative base of the events service (its own database) and its messaging tables;
the sub-domains' tables are in their ``models`` modules (all of them: ``nzr_events.models``)."""

from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import DeclarativeBase

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)

#: A row read with Core for a list (the read-path rule): the table's columns by name, no ORM object.
ListedRow = Row[*tuple[Any, ...]]
