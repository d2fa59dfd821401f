from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intranet.core import clock
from intranet.extensions import db
from intranet.models.types import UTCDateTime


class Notification(db.Model):
    """An in-app message for one user; the text is rendered in the reader's language from kind."""

    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),
                      Index("ix_notification_user_list", "user_id", "created_at", "id"),
                      UniqueConstraint("user_id", "dedupe_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Jobs post each reminder once: a second run finds the key and sends nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
