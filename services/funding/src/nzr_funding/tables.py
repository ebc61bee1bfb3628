"""The funding service's declarative base and messaging tables; each sub-domain declares its
own tables in its ``models`` module (``nzr_funding.models`` gathers them)."""

from sqlalchemy.orm import DeclarativeBase

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata)
