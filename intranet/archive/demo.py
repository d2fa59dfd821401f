"""Demo data of sealed files (rule C7): last year sealed by the archivist, one of the
archivist's access requests waiting for the GM and one approved, so the GM's and the
archivist's home pages both show something."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from intranet.archive import access, sealing
from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import Customer, SealedPeriod, User
from intranet.workflows import engine


def load_sealing(users: dict[str, User]) -> None:
    if db.session.scalar(select(SealedPeriod.id).limit(1)) is not None:
        return
    archivist, gm = users["archivist"], users["gm"]
    customers = db.session.scalars(select(Customer).where(Customer.owner_id.is_not(None))
                                   .order_by(Customer.id).limit(2)).all()
    if len(customers) < 2:
        return
    year = sealing.current_year() - 1
    now = clock.now()
    # three days of history, or less early in January (a year is sealed only once it ended)
    span = min(timedelta(days=3), now - sealing.year_bounds(year + 1)[0])
    with clock.at(now - span):
        sealing.seal(year, archivist, f"{year} 年度客户档案整理完毕，按制度封存")
    with clock.at(now - span * 2 / 3):
        granted = access.request_access(archivist, customers[0], year,
                                        "税务稽查需要核对该客户上年度的档案表", 7)
    with clock.at(now - span / 3):
        engine.fire(granted, "approve", user=gm, comment="同意，限七日内查阅")
    access.request_access(archivist, customers[1], year,
                          "客户申请对账，需要调阅上年度客户档案表", 3)


def load_export(users: dict[str, User]) -> None:
    """One batch export of the last two months' closed complaints and resource records,
    queued for the archivist: the consumer `./dev start` runs picks it up at once."""
    from intranet.archive import export
    from intranet.models import ArchiveExport

    if db.session.scalar(select(ArchiveExport.id).limit(1)) is not None:
        return
    today = clock.now().astimezone(settings.tz()).date()
    export.create(users["archivist"], ["service_case", "transfer_request", "pool_claim"],
                  today - timedelta(days=60), today, None)
