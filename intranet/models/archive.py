"""The archive's registry of issued documents (issue 11): every PDF the system hands out, with
the SHA-256 of the exact bytes handed out, so that a PDF brought back can be recognised."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.core import clock
from intranet.extensions import db
from intranet.models.types import UTCDateTime
from intranet.models.user import User


class IssuedDocument(db.Model):
    """One PDF handed out: which record (type, id, number, version), the SHA-256 of the signed
    file, when and to whom. Written in the transaction of the audit row of the download (or of
    the export that carried it); never edited."""

    __table_args__ = (Index("ix_issued_document_record", "record_type", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int]
    record_number: Mapped[str] = mapped_column(String(60))
    record_version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    issued_to_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    export_id: Mapped[int | None] = mapped_column(index=True)  # the batch export that carried it

    issued_to: Mapped[User | None] = relationship()
