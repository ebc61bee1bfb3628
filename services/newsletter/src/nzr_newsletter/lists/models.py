"""Tables of lists."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nzr_common.db import UTCDateTime
from nzr_newsletter.tables import Base


class ListRow(Base):
    __tablename__ = "mailing_lists"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(80))
    visibility: Mapped[str] = mapped_column(String(10))  # public | internal
    registration_default: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool] = mapped_column(default=False)
    #: Count opens and clicks of this list's campaigns (in aggregate per campaign, never per
    #: recipient); off unless the list's owner switches it on.
    tracking_enabled: Mapped[bool] = mapped_column(default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
