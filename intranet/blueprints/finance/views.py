"""Finance: transactions (rule C9). Receivables and shipment release come with credit (K)."""
from flask_babel import gettext as _

from intranet import audit
from intranet.blueprints.finance import bp
from intranet.customers import ledger
from intranet.customers.importer import import_transactions
from intranet.extensions import db
from intranet.models import Customer
from intranet.uploads import import_page


@bp.route("/transactions/import", methods=["GET", "POST"])
def transactions_import():
    """Orders, shipments and payments from a file, all or nothing; tiers follow (C3)."""

    def refresh_and_audit(records):
        customer_ids = sorted({r.customer_id for r in records})
        ledger.refresh(db.session.scalars(
            db.select(Customer).where(Customer.id.in_(customer_ids))).all())
        audit.record(audit.Action.CREATE, "transactions", "", details={
            "rows": len(records), "customers": customer_ids})
    return import_page(import_transactions, refresh_and_audit, _("Import transactions"),
                       "import/transactions.csv")
