"""Verify a PDF brought back (issue 11 §4): was it issued here, unmodified, and to whom?"""
from __future__ import annotations

from flask import render_template

from intranet.archive import verify
from intranet.blueprints.archive import bp
from intranet.blueprints.archive.forms import VerifyForm
from intranet.core import audit


@bp.route("/verify", methods=["GET", "POST"])
def verify_document():
    form = VerifyForm()
    verdict = None
    if form.validate_on_submit():
        verdict = verify.verify(form.file.data.read())
        audit.record(audit.Action.VIEW, "issued_document",
                     verdict.document.id if verdict.document else "", details={
                         "verify": verdict.outcome, "sha256": verdict.sha256})
    status = 422 if form.errors else 200
    return render_template("archive/verify.html", form=form, verdict=verdict,
                           outcomes=verify), status
