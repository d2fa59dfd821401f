"""Error pages in the user's language; no traceback ever reaches the user (SECURITY.md 18)."""
import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from intranet.core import audit
from intranet.core.http import is_htmx
from intranet.extensions import db

log = logging.getLogger("intranet.security")

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("The page or record does not exist, or you may not see it."),
    405: lambda: _("This action is not available here."),
    409: lambda: _("Someone else changed this record first. Reload to see its current state."),
    413: lambda: _("The upload is too large."),
    422: lambda: _("Some fields are not valid. Please correct them."),
    429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side. Nothing was saved."),
    503: lambda: _("The database is unavailable. Nothing was saved; please try again shortly."),
}


class RecordStateError(Exception):
    """A record cannot take this step in its current state (409, naming that state); `stale`
    when someone else changed it first. The workflow engine raises its subclasses."""

    stale = False
    object_type = ""

    def __init__(self, row, message: str = "", event: str = ""):
        super().__init__(message or f"{type(row).__name__} {row.id}")
        self.row, self.event = row, event

    def state_label(self):
        return self.row.state


class FieldError(Exception):
    """Data refused for one form field (422); `field` names it."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def abort_with(status: int, message: str):
    """abort() whose message (already translated) is shown to the user."""
    from flask import abort

    try:
        abort(status, description=message)
    except HTTPException as error:
        error.user_message = True
        raise


def render_error(status: int, message: str | None = None):
    # A 5xx may come from the database itself: nothing below may query it again (the
    # locale selector and the template context check this flag).
    g.database_suspect = status >= 500
    if g.database_suspect and "_login_user" not in g:
        g._login_user = AnonymousUserMixin()  # Flask-Login's template context would load it
    db.session.rollback()
    message = message or MESSAGES.get(status, MESSAGES[500])()
    if is_htmx():
        response = render_template("_error_toast.html", status=status, message=message), status
        return response[0], status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    template = "error_plain.html" if status >= 500 else "error.html"
    return render_template(template, status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.warning("csrf failure endpoint=%r reason=%s", request.endpoint, error.description)
        return render_error(400, _("The form expired or was sent from elsewhere. "
                                   "Reload the page and try again."))

    @app.errorhandler(RecordStateError)
    def workflow_conflict(error):
        """SECURITY.md 6: a stale, concurrent or out-of-order transition is a 409 that says
        what the record is now; the rollback keeps nothing of the attempt."""
        db.session.rollback()
        row = error.row
        if not sa_inspect(row).persistent:  # refused while being created: nothing to show
            return render_error(409, _("This step is not possible now."))
        db.session.refresh(row)
        state = str(error.state_label())
        if error.stale:
            message = _("Someone else acted on this record first. It is now “%(state)s”; "
                        "reload to see it.", state=state)
        else:
            message = _("This step is not possible now: the record is “%(state)s”.",
                        state=state)
        log.info("workflow refused %s %s: %s", type(row).__name__, row.id,
                 type(error).__name__)
        if not error.stale and error.object_type:
            # SECURITY.md 25: a refused step (recusal, separation of duties) is evidence too;
            # its audit row is kept although the attempt itself is rolled back.
            audit.record(audit.Action.REFUSED, error.object_type, row.id,
                         details={"event": error.event, "state": row.state})
            db.session.commit()
        return render_error(409, message)

    @app.errorhandler(FieldError)
    def workflow_input(error):
        return render_error(422, str(error.message))

    from intranet.pdf import PdfTimeout

    @app.errorhandler(PdfTimeout)
    def pdf_timeout(error):
        return render_error(503, _("The record took too long to print and was stopped. "
                                   "Nothing was saved; please try again."))

    @app.errorhandler(429)
    def too_many(error):
        log.warning("throttled endpoint=%r address=%s", request.endpoint, request.remote_addr)
        return render_error(429)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code >= 500 and not isinstance(error, InternalServerError):
            return render_error(error.code)
        if isinstance(error, InternalServerError):
            return server_error(error)
        return render_error(error.code or 500, error.description
                            if getattr(error, "user_message", False) else None)

    @app.errorhandler(OperationalError)
    def database_down(error):
        log.error("database unavailable: %s", error.__class__.__name__)
        _dispose_broken_connections(error)
        return render_error(503)

    @app.errorhandler(DataError)
    def data_rejected(error):
        # A value the database refuses (a form validator should have caught it first).
        app.logger.warning("database refused a value: %s", error.orig)
        return render_error(422)

    @app.errorhandler(Exception)
    def server_error(error):
        original = getattr(error, "original_exception", None) or error
        if isinstance(original, OperationalError):
            return database_down(original)
        if isinstance(original, DataError):
            return data_rejected(original)
        app.logger.exception("unhandled error", exc_info=original)
        return render_error(500)


def _dispose_broken_connections(error) -> None:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        db.engine.dispose()
