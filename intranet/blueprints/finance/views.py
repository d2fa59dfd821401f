"""Finance: transactions (rule C9). Receivables and shipment release come with credit (K)."""
from flask import render_template
from flask_babel import gettext as _

from intranet import audit
from intranet.blueprints.finance import bp
from intranet.customers import ledger
from intranet.customers.importer import ImportFileError, Report, import_transactions, read_table
from intranet.extensions import db
from intranet.forms import UploadForm
from intranet.models import Customer


@bp.route("/transactions/import", methods=["GET", "POST"])
def transactions_import():
    """Orders, shipments and payments from a file, all or nothing; tiers follow (C3)."""
    form = UploadForm()
    report = None
    if form.validate_on_submit():
        report = Report()
        try:
            records = import_transactions(
                read_table(form.file.data.read(), form.file.data.filename), report)
        except ImportFileError as exc:
            report.add(0, "", exc)
            records = []
        if records:
            db.session.add_all(records)
            db.session.flush()
            customer_ids = sorted({r.customer_id for r in records})
            ledger.refresh(db.session.scalars(
                db.select(Customer).where(Customer.id.in_(customer_ids))).all())
            audit.record(audit.Action.CREATE, "transactions", "", details={
                "rows": len(records), "customers": customer_ids})
            report.written = len(records)
    return render_template("sales/import.html", form=form, report=report,
                           title=_("Import transactions"),
                           template_file="import/transactions.csv"), (
        422 if report and report.errors else 200)
