"""The parts of a customer file changed from its page: contacts, the activity log, attachments,
the tier override (rule C3) and the blacklist (rule C8)."""
from datetime import UTC

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet.blueprints.sales import bp
from intranet.blueprints.sales.customers import customer_page_context
from intranet.blueprints.sales.forms import (
    ActivityForm,
    AttachmentForm,
    BlacklistForm,
    ContactForm,
    TierOverrideForm,
)
from intranet.core import audit, settings
from intranet.core.access import (
    scoped_customer_or_404,
)
from intranet.core.forms import ConfirmForm
from intranet.core.http import is_htmx, toast
from intranet.customers import attachments, ledger
from intranet.customers.dedupe import find_duplicate
from intranet.extensions import db
from intranet.models import (
    Attachment,
    Contact,
)
from intranet.visits import operations


@bp.route("/customers/<int:customer_id>/contacts", methods=["POST"])
def contact_add(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    form = ContactForm()
    if form.validate_on_submit():
        phones = [form.phone.data] if form.phone.data else []
        found = find_duplicate("", None, phones, exclude_id=record.id) if phones else None
        if found:  # rule C2: the phone already belongs to another registration
            form.phone.errors.append(_("This phone belongs to %(name)s (owner: %(owner)s).",
                                       name=found[0].name, owner=found[0].owner.display_name
                                       if found[0].owner else "—"))
        else:
            contact = Contact(name=form.name.data.strip(), title=(form.title.data or "").strip(),
                              phone=(form.phone.data or "").strip(),
                              email=(form.email.data or "").strip())
            record.contacts.append(contact)
            db.session.flush()
            audit.record(audit.Action.UPDATE, "customer", record.id,
                         details={"contact_added": contact.name})
            flash(_("Contact added."), "success")
            return redirect(url_for("sales.customer", customer_id=record.id))
    return render_template("sales/customer.html",
                           **customer_page_context(record, contact_form=form)), 422


@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>/delete", methods=["POST"])
def contact_delete(customer_id: int, contact_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    contact = next((c for c in record.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        record.contacts.remove(contact)
        audit.record(audit.Action.UPDATE, "customer", record.id,
                     details={"contact_removed": contact.name})
        flash(_("Contact removed."), "success")
    return redirect(url_for("sales.customer", customer_id=record.id))


@bp.route("/customers/<int:customer_id>/activities", methods=["POST"])
def activity_add(customer_id: int):
    """Record a visit or other contact (rules V1, V3); htmx swaps in the updated log."""
    record = scoped_customer_or_404(customer_id, "edit")
    form = ActivityForm()
    form.fill_choices(operations.visitors(), exclude=current_user.id)
    if form.validate_on_submit():
        occurred = form.occurred_at.data.replace(tzinfo=settings.tz()).astimezone(UTC)
        operations.record_visit(
            record, current_user, kind=form.kind.data, occurred_at=occurred,
            summary=form.summary.data.strip(), purpose=form.purpose.data,
            satisfaction=form.satisfaction_value, next_action_on=form.next_action_on.data,
            participant_ids=tuple(form.participants.data or ()))
        form = None
        status = 200
    else:
        status = 422
    context = customer_page_context(record, activity_form=form)
    if is_htmx():
        return render_template("sales/_activities.html", **context), status, (
            toast(_("Activity recorded.")) if status == 200 else {})
    if status == 200:
        flash(_("Activity recorded."), "success")
        return redirect(url_for("sales.customer", customer_id=record.id))
    return render_template("sales/customer.html", **context), status


@bp.route("/customers/<int:customer_id>/attachments", methods=["POST"])
def attachment_add(customer_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    form = AttachmentForm()
    if form.validate_on_submit():
        data = form.file.data.read(attachments.MAX_BYTES + 1)
        problem = attachments.problem(data)
        if problem:
            flash(problem, "error")
        else:
            name = attachments.secure_name(form.file.data.filename)
            attachment = Attachment(customer_id=record.id, filename=name, size=len(data),
                                    kind=attachments.kind_of(data), data=data,
                                    uploaded_by_id=current_user.id)
            db.session.add(attachment)
            db.session.flush()
            audit.record(audit.Action.CREATE, "attachment", attachment.id,
                         details={"customer": record.id, "filename": name, "size": len(data)})
            flash(_("Attachment uploaded."), "success")
    else:
        for error in form.file.errors:
            flash(error, "error")
    return redirect(url_for("sales.customer", customer_id=record.id))


@bp.route("/customers/<int:customer_id>/attachments/<int:attachment_id>")
def attachment_download(customer_id: int, attachment_id: int):
    record = scoped_customer_or_404(customer_id)
    attachment = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.customer_id == record.id)) or abort(404)
    audit.record(audit.Action.EXPORT, "attachment", attachment.id,
                 details={"customer": record.id})
    return attachments.download(attachment.data, attachment.filename)


@bp.route("/customers/<int:customer_id>/attachments/<int:attachment_id>/delete",
          methods=["POST"])
def attachment_delete(customer_id: int, attachment_id: int):
    record = scoped_customer_or_404(customer_id, "edit")
    attachment = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.customer_id == record.id)) or abort(404)
    if ConfirmForm().validate_on_submit():
        audit.record(audit.Action.DELETE, "attachment", attachment.id,
                     details={"customer": record.id, "filename": attachment.filename})
        db.session.delete(attachment)
        flash(_("Attachment deleted."), "success")
    return redirect(url_for("sales.customer", customer_id=record.id))


@bp.route("/customers/<int:customer_id>/tier", methods=["POST"])
def customer_tier(customer_id: int):
    """Rule C3: a sales manager overrides the computed tier (or clears the override)."""
    record = scoped_customer_or_404(customer_id, "edit")
    form = TierOverrideForm()
    if form.validate_on_submit():
        old, before = record.tier_override, record.effective_tier
        record.tier_override = form.tier.data or None
        ledger.note_tier_change(record, before)
        record.tier_override_reason = form.reason.data.strip() if record.tier_override else ""
        record.tier_override_by_id = current_user.id if record.tier_override else None
        audit.record(audit.Action.UPDATE, "customer", record.id, reason=form.reason.data.strip(),
                     details={"tier_override": {"old": old, "new": record.tier_override}})
        flash(_("Tier saved."), "success")
    else:
        for error in form.reason.errors + form.tier.errors:
            flash(error, "error")
    return redirect(url_for("sales.customer", customer_id=record.id))


@bp.route("/customers/<int:customer_id>/blacklist", methods=["POST"])
def customer_blacklist(customer_id: int):
    """Rule C8: a sales manager puts a customer on the blacklist, or takes it off, with a
    reason; blacklisted customers get no credit and no new orders."""
    record = scoped_customer_or_404(customer_id, "edit")
    form = BlacklistForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(error, "error")
        return redirect(url_for("sales.customer", customer_id=record.id))
    record.blacklisted = not record.blacklisted
    record.blacklist_reason = form.reason.data.strip() if record.blacklisted else ""
    audit.record(audit.Action.UPDATE, "customer", record.id, reason=form.reason.data.strip(),
                 details={"blacklisted": record.blacklisted})
    flash(_("Customer put on the blacklist.") if record.blacklisted
          else _("Customer taken off the blacklist."), "success")
    return redirect(url_for("sales.customer", customer_id=record.id))
