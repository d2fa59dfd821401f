from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intranet.core import clock
from intranet.extensions import db
from intranet.models.types import UTCDateTime


class Setting(db.Model):
    """A company setting overriding the declared default (intranet/settings.py)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
