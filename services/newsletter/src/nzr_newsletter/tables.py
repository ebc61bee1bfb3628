"""The newsletter's declarative base, its messaging tables and the record of erased persons;
the sub-domains' tables live in their ``models`` modules (all loaded by ``nzr_newsletter.metadata``)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nzr_common.db import UTCDateTime, new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata, record_personal=True)


class ErasedPersonRow(Base):
    """Who was erased (GDPR Art. 17) and when, by pseudonymous person id only: an event that
    names them and happened before the erasure (a registration consumed late) must not bring
    them back. A sign-up after the erasure is a new consent and is taken."""

    __tablename__ = "erased_persons"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
