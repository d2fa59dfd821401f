from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intranet.core import clock
from intranet.extensions import db
from intranet.models.types import UTCDateTime


class Setting(db.Model):
    """A company setting overriding the declared default (intranet/settings.py)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class SettingsVersion(db.Model):
    """One row whose `version` changes in the same transaction as any setting, so that every
    worker process, which keeps the settings in memory, notices the change at its next request
    with one tiny query (intranet/core/settings.py). A random value rather than a counter: a
    rolled-back change or an emptied table can never leave a worker's cache matching again."""

    __tablename__ = "settings_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(32))
