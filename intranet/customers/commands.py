"""`flask customers refresh`: the nightly recomputation of trailing sales and tiers."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from intranet.extensions import db

customers_cli = AppGroup("customers", help="The customer archive.")


@customers_cli.command("refresh")
@click.option("--batch", default=2000, show_default=True)
def customers_refresh(batch):
    """Recompute trailing sales and tiers (rules C3, C5): the 12-month window moves daily,
    so run this nightly (cron or a systemd timer). Idempotent; overrides are kept."""
    from intranet.customers import ledger
    from intranet.models import Customer

    last_id, done = 0, 0
    while True:
        customers = db.session.scalars(db.select(Customer).where(Customer.id > last_id)
                                       .order_by(Customer.id).limit(batch)).all()
        if not customers:
            break
        ledger.refresh(customers)
        db.session.commit()
        last_id, done = customers[-1].id, done + len(customers)
    click.echo(f"refreshed {done} customers")
