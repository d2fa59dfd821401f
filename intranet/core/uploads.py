"""The upload page every import shares: the whole file is checked first, written only if
clean, and the per-row report is shown either way (nothing is ever half-written)."""
from __future__ import annotations

from collections.abc import Callable

from flask import render_template

from intranet.core.forms import UploadForm
from intranet.core.spreadsheets import ImportFileError, Report, read_table
from intranet.extensions import db


def import_page(check: Callable, write: Callable, title: str, template_file: str):
    """`check(table, report)` returns the new records, or [] if any row has an error;
    `write(records)` runs after they are flushed (audit, recomputation)."""
    form = UploadForm()
    report = None
    if form.validate_on_submit():
        report = Report()
        try:
            records = check(read_table(form.file.data.read(), form.file.data.filename), report)
        except ImportFileError as exc:
            report.add(0, "", exc)
            records = []
        if records:
            db.session.add_all(records)
            db.session.flush()
            write(records)
            report.written = len(records)
    status = 422 if report and report.errors else 200
    return render_template("sales/import.html", form=form, report=report, title=title,
                           template_file=template_file), status
