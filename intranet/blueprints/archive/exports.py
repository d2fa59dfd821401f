"""Batch export pages (issue 11 §5): the form (period, record types, department), the list of
the user's exports with progress polled by htmx while one runs, and the download of a
finished ZIP by the user who asked for it (audited). The work is in intranet/archive/export*."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from intranet.archive import export
from intranet.archive.export_zip import exportable
from intranet.archive.records import RECORD_TYPES
from intranet.blueprints.archive import bp
from intranet.core import audit, clock, settings
from intranet.core.forms import CheckboxesField, Form, ValueRequired, options
from intranet.core.home import Widget, home_widget
from intranet.core.http import is_htmx, redirect_to
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ArchiveExport, Department

MAX_DAYS = 3 * 366  # one export covers at most about three years
EARLIEST = date(2000, 1, 1)


class ExportForm(Form):
    start = DateField(_l("Closed from"), validators=[ValueRequired(_l("Enter the first day."))])
    end = DateField(_l("Closed through"), validators=[ValueRequired(_l("Enter the last day."))])
    types = CheckboxesField(_l("Record types"), choices=lambda: options(
        (key, rt.label) for key, rt in exportable().items()))
    department_id = SelectField(_l("Department"), coerce=int, default=0,
                                validators=[Optional()])

    def fill_choices(self):
        self.department_id.choices = [(0, _("All departments"))] + [
            (d.id, d.name_zh) for d in db.session.scalars(select(Department)
                                                           .order_by(Department.code))]
        return self

    def validate_types(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one record type."))

    def validate_end(self, field):
        start, end = self.start.data, field.data
        if start is None or end is None:
            return
        today = clock.now().astimezone(settings.tz()).date()
        if start < EARLIEST or end > today:
            raise ValidationError(_l("The period must lie between 2000 and today."))
        if end < start:
            raise ValidationError(_l("The last day comes before the first."))
        if (end - start).days > MAX_DAYS:
            raise ValidationError(_l("One export covers at most three years."))


def _user():
    return current_user._get_current_object()


def _mine_or_404(export_id: int) -> ArchiveExport:
    row = db.session.get(ArchiveExport, export_id)
    if row is None or row.requested_by_id != current_user.id:
        abort(404)
    return row


@bp.route("/exports")
def exports():
    page = paginate(select(ArchiveExport).where(ArchiveExport.requested_by_id == current_user.id)
                    .order_by(ArchiveExport.id.desc()))
    return render_template("archive/exports.html", page=page, labels=_type_labels(),
                           states=export.STATE_LABELS, errors=export.ERRORS)


@bp.route("/exports/new", methods=["GET", "POST"])
def export_new():
    form = ExportForm().fill_choices()
    if form.validate_on_submit():
        row = export.create(_user(), list(form.types.data), form.start.data, form.end.data,
                            form.department_id.data or None)
        flash(_("Export %(number)s queued. This page shows its progress.", number=row.number),
              "success")
        return redirect_to(url_for("archive.exports"))
    return render_template("archive/exports_new.html", form=form), (422 if form.errors
                                                                      else 200)


@bp.route("/exports/<int:export_id>/status")
def export_status(export_id: int):
    """One export's row (htmx polls it every 2 s while it runs)."""
    row = _mine_or_404(export_id)
    template = "archive/_export_row.html" if is_htmx() else "archive/exports_one.html"
    return render_template(template, row=row, labels=_type_labels(),
                           states=export.STATE_LABELS, errors=export.ERRORS)


@bp.route("/exports/<int:export_id>/download")
def export_download(export_id: int):
    row = export.downloadable(export_id, _user())
    if row is None:
        abort(404)
    audit.record(audit.Action.EXPORT, "archive_export", row.id, details={
        "download": row.file_name, "sha256": row.sha256})
    return send_file(export.final_path(row.id), mimetype="application/zip", as_attachment=True,
                     download_name=f"{row.number}.zip", max_age=0)


@home_widget(Role.ARCHIVIST, Role.GENERAL_MANAGER)
def recent_exports(user):
    """The home page: one's latest exports with their state (issue 11 §6)."""
    rows = db.session.scalars(select(ArchiveExport).where(
        ArchiveExport.requested_by_id == user.id).order_by(ArchiveExport.id.desc())
        .limit(5)).all()
    running = sum(row.state in ("queued", "running") for row in rows)
    items = [(f"{row.number} · {export.STATE_LABELS[row.state]}",
              url_for("archive.export_status", export_id=row.id)) for row in rows]
    return Widget(_l("My batch exports"), running, items, url_for("archive.exports"),
                  _l("No export yet."))


def _type_labels() -> dict:
    return {key: rt.label for key, rt in RECORD_TYPES.items()}
