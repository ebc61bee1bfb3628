"""The declarative base and the messaging tables of the reporting service; the tables
themselves live with their sub-domain (``indicators/models.py``, ``goals/models.py``,
``state/models.py``).

Projection tables (``*_facts``, histories, freshness) are built only from events and are thrown
away and rebuilt by ``nzr reporting rebuild``. They hold counts, codes and pseudonymous ids,
never names or e-mail addresses. Goals and measures are reporting's own data (entered over
the API) and survive a rebuild."""

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase

from nzr_common.db import new_metadata
from nzr_common.tables import add_messaging_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = add_messaging_tables(Base.metadata)


REGION = String(64)


ID = String(64)
