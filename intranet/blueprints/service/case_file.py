"""What is recorded on a case besides its steps: contacts with the complainant (rule P4),
corrective actions and their verification (P8), original materials (P1), and the printed
record 客户投诉处理登记表."""
from __future__ import annotations

from flask import abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet.archive import issue
from intranet.blueprints.service import bp
from intranet.blueprints.service.cases import case_context
from intranet.blueprints.service.forms import (
    CaseAttachmentForm,
    ContactLogForm,
    CorrectiveActionForm,
)
from intranet.complaints import operations
from intranet.complaints import record as complaint_record
from intranet.complaints.scope import reads_notes, scoped_case_or_404
from intranet.core import audit
from intranet.core.forms import ConfirmForm
from intranet.core.http import redirect_to
from intranet.customers import attachments
from intranet.extensions import db
from intranet.models import CaseAttachment, CorrectiveAction, User
from intranet.workflows.engine import InvalidInput


def _user():
    return current_user._get_current_object()


def _handling(case_id: int):
    """A case whose notes the user may read and add to (P2: not the person complained
    about)."""
    case = scoped_case_or_404(case_id)
    if not reads_notes(case, _user()):
        abort(404)
    return case


def _back(case, **forms):
    return render_template("service/case.html", **case_context(case, **forms)), 422


@bp.route("/cases/<int:case_id>/contacts", methods=["POST"])
def case_contact_add(case_id: int):
    case = _handling(case_id)
    form = ContactLogForm()
    if form.validate_on_submit():
        try:
            operations.add_contact(case, form.kind.data, form.note.data.strip(), _user(),
                                   promised_on=form.promised_on.data)
        except InvalidInput as error:
            getattr(form, error.field).errors = [str(error.message)]
        else:
            flash(_("Contact logged."), "success")
            return redirect_to(url_for("service.case", case_id=case.id) + "#contacts")
    return _back(case, contact_form=form)


@bp.route("/cases/<int:case_id>/actions", methods=["POST"])
def case_action_add(case_id: int):
    case = _handling(case_id)
    form = CorrectiveActionForm().fill_choices()
    if form.validate_on_submit():
        try:
            operations.add_action(case, form.what.data.strip(),
                                  db.session.get(User, form.owner_id.data), form.due_on.data,
                                  _user())
        except InvalidInput as error:
            getattr(form, error.field).errors = [str(error.message)]
        else:
            flash(_("Corrective action recorded."), "success")
            return redirect_to(url_for("service.case", case_id=case.id) + "#corrective-actions")
    return _back(case, action_form=form)


@bp.route("/cases/<int:case_id>/actions/<int:action_id>/verify", methods=["POST"])
def case_action_verify(case_id: int, action_id: int):
    case = _handling(case_id)
    action = db.session.scalar(select(CorrectiveAction).where(
        CorrectiveAction.id == action_id, CorrectiveAction.case_id == case.id)) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            operations.verify_action(case, action, _user())
        except InvalidInput as error:
            flash(str(error.message), "error")
        else:
            flash(_("Corrective action verified."), "success")
    return redirect_to(url_for("service.case", case_id=case.id) + "#corrective-actions")


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
def case_attachment_add(case_id: int):
    case = _handling(case_id)
    form = CaseAttachmentForm()
    if form.validate_on_submit() and form.file.data and form.file.data.filename:
        data = form.file.data.read(attachments.MAX_BYTES + 1)
        try:
            operations.add_attachment(case, form.file.data.filename, data, _user())
        except InvalidInput as error:
            form.file.errors = [str(error.message)]
        else:
            flash(_("Material attached."), "success")
            return redirect_to(url_for("service.case", case_id=case.id) + "#materials")
    elif not form.errors:
        form.file.errors = [_("Choose a file.")]
    return _back(case, attachment_form=form)


@bp.route("/cases/<int:case_id>/attachments/<int:attachment_id>")
def case_attachment_download(case_id: int, attachment_id: int):
    case = _handling(case_id)
    item = db.session.scalar(select(CaseAttachment).where(
        CaseAttachment.id == attachment_id, CaseAttachment.case_id == case.id)) or abort(404)
    audit.record(audit.Action.EXPORT, "case_attachment", item.id, details={"case": case.id})
    return attachments.download(item.data, item.filename)


@bp.route("/cases/<int:case_id>/pdf")
def case_pdf(case_id: int):
    """The signed record 客户投诉处理登记表: the case, contacts, opinion, decision or the
    meeting's resolution, reply, follow-up, corrective actions, recusal and full history."""
    case = scoped_case_or_404(case_id, "archive")
    if not reads_notes(case, _user()):
        abort(404)  # rule P2: the record holds the handling notes
    return issue.download(complaint_record.RECORD, case)


