"""Sealed files (rule C7): the sealed years and the seal form with its confirmation step, access
requests (list, form, record page with the GM's decision), the page a sealed file answers
without a grant, and the home widgets. The rules live in archive/sealing.py and access.py; the
steps go through workflows.engine.fire."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from intranet.archive import access, sealing
from intranet.blueprints.archive import bp
from intranet.core import audit, clock, settings
from intranet.core.errors import FieldError, abort_with, render_error
from intranet.core.forms import REQUIRED, Form, length, options
from intranet.core.home import Widget, home_widget
from intranet.core.http import is_htmx, redirect_to
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.querystring import int_arg, parse_int
from intranet.core.roles import Role
from intranet.extensions import db
from intranet.models import ArchiveAccessRequest, Customer, SealedPeriod
from intranet.workflows import diagram, engine, steps
from intranet.workflows.archive_access import ArchiveAccessFlow
from intranet.workflows.archive_access_states import AccessState

A = ArchiveAccessRequest
S = AccessState


class SealForm(Form):
    year = SelectField(_l("Year to seal"), choices=lambda: options(
        [(str(y), str(y)) for y in sealing.closed_years()]))
    note = TextAreaField(_l("Note"), validators=[Optional(), length(500)])
    confirm = StringField(validators=[Optional(), length(1)])


class AccessRequestForm(Form):
    customer = StringField(_l("Customer (name or unified social credit code)"),
                           validators=[REQUIRED, length(200)])
    year = SelectField(_l("Year of the file"), choices=lambda: options(
        [(str(y), str(y)) for y in sorted(sealing.sealed_years(), reverse=True)]))
    days = StringField(_l("For how many days"), validators=[REQUIRED, length(4)])
    reason = TextAreaField(_l("Why you need this file"), validators=[REQUIRED,
                                                                      length(2000, 2)])


class AccessTransitionForm(Form):
    event = StringField(validators=[REQUIRED, length(40)])
    version = StringField(validators=[REQUIRED, length(12)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), length(2000)])

    def validate_version(self, field):
        if parse_int(field.data, minimum=0) is None:  # the page sent it: not for people
            raise ValidationError(_l("Reload the page and try again."))


def _user():
    return current_user._get_current_object()


# --- sealed years --------------------------------------------------------------------------

@bp.route("/seals", methods=["GET", "POST"])
def seals():
    """The sealed years, and sealing a closed one: the first POST asks for confirmation, the
    second (confirm=1) seals."""
    form = SealForm()
    if request.method == "POST" and form.validate_on_submit():
        year = int(form.year.data)
        try:
            if form.confirm.data != "1":
                sealing.check_sealable(year)
                return render_template("archive/seal_confirm.html", form=form, year=year)
            sealing.seal(year, _user(), form.note.data or "")
        except FieldError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        else:
            flash(_("%(year)s is sealed: its customer files now open only with the general "
                    "manager's approval.", year=year), "success")
            return redirect(url_for("archive.seals"))
    periods = db.session.scalars(select(SealedPeriod).options(
        selectinload(SealedPeriod.sealed_by)).order_by(SealedPeriod.year.desc())).all()
    if request.method == "GET":
        audit.record(audit.Action.VIEW, "sealed_period", None)
    sealed = {p.year for p in periods}
    form.year.choices = [c for c in form.year.choices if int(c.value) not in sealed]
    return render_template("archive/seals.html", form=form, periods=periods), (
        422 if form.errors else 200)


# --- access requests -----------------------------------------------------------------------

LIST_STATES = ("requested", "approved", "expired", "rejected", "withdrawn")


def _state_filter(state: str, now):
    if state == S.APPROVED:
        return and_(A.state == S.APPROVED.value, A.expires_at > now)
    if state == S.EXPIRED:
        return or_(A.state == S.EXPIRED.value,
                   and_(A.state == S.APPROVED.value, A.expires_at <= now))
    return A.state == state


@bp.route("/access")
def access_requests():
    """The user's requests (the GM: everyone's), those waiting for a decision first."""
    user, now = _user(), clock.now()
    query = (select(A).where(access.request_scope(user))
             .options(selectinload(A.customer), selectinload(A.requested_by)))
    state = request.args.get("state", "")
    if state in LIST_STATES:
        query = query.where(_state_filter(state, now))
    year = int_arg("year", minimum=sealing.FIRST_YEAR, maximum=9999)
    if year:
        query = query.where(A.year == year)
    waiting = case((A.state == S.REQUESTED.value, 0), else_=1)
    page = paginate(query.order_by(waiting, A.created_at.desc(), A.id.desc()))
    audit.record(audit.Action.VIEW, "archive_access_list", None, details={
        "page": page.page, "rows": [r.id for r in page.items]})
    return render_template("archive/access_list.html", page=page, state=state, year=year,
                           list_states=LIST_STATES, shown=access.display_state, now=now)


def _customer(raw: str) -> Customer | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    number = parse_int(raw)
    if number is not None and raw.isdigit():
        found = db.session.get(Customer, number)
        if found is not None:
            return found
    matches = db.session.scalars(select(Customer).where(
        or_(Customer.name == raw, Customer.credit_code == raw.upper())).limit(2)).all()
    return matches[0] if len(matches) == 1 else None


@bp.route("/access/new", methods=["GET", "POST"])
def access_new():
    """Ask the GM to open one customer's sealed file of one year (?customer=ID&year=Y from
    the page that refused it)."""
    user = _user()
    if request.method == "GET":
        form = AccessRequestForm(formdata=None, customer=request.args.get("customer", ""),
                                 year=request.args.get("year", ""),
                                 days=str(min(7, access.max_days())))
    else:
        form = AccessRequestForm()
    preset = _customer(form.customer.data or "")
    if request.method == "POST" and form.validate_on_submit():
        try:
            row = access.request_access(user, preset, parse_int(form.year.data),
                                        form.reason.data or "",
                                        parse_int(form.days.data or "", maximum=9999))
        except FieldError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        else:
            flash(_("Request %(number)s sent to the general manager.", number=row.number),
                  "success")
            return redirect(url_for("archive.access_request", access_id=row.id))
    return render_template("archive/access_new.html", form=form, customer=preset,
                           max_days=access.max_days(),
                           years=sealing.sealed_years()), 422 if form.errors else 200


def _scoped(access_id: int) -> ArchiveAccessRequest:
    return access.request_or_none(access_id, _user()) or abort(404)


def _context(row, form: AccessTransitionForm | None = None) -> dict:
    user, now = _user(), clock.now()
    return {"row": row, "events": engine.available_events(row, user),
            "event_labels": ArchiveAccessFlow.EVENT_LABELS,
            "state_labels": ArchiveAccessFlow.STATE_LABELS, "history": engine.history(row),
            "diagram": diagram.layout(ArchiveAccessFlow), "current": row.state,
            "shown_state": access.display_state(row, now), "live": row.live(now),
            "shared": steps.page_actions(row, user),
            "transition_form": form or AccessTransitionForm(formdata=None)}


@bp.route("/access/<int:access_id>")
def access_request(access_id: int):
    row = _scoped(access_id)
    audit.record(audit.Action.VIEW, ArchiveAccessFlow.object_type, row.id)
    return render_template("archive/access_request.html", **_context(row))


@bp.route("/access/<int:access_id>/transition", methods=["POST"])
def access_transition(access_id: int):
    row = _scoped(access_id)
    form = AccessTransitionForm()
    if not form.validate_on_submit():
        if set(form.errors) - {"comment"}:
            abort_with(422, _("Choose an action."))
        problem = ("comment", form.comment.errors[0])
    else:
        problem = None
        try:
            engine.fire(row, form.event.data, user=_user(),
                        expected_version=parse_int(form.version.data, minimum=0),
                        comment=(form.comment.data or "").strip(),
                        on_grant=lambda grant: g.__setattr__("grant", grant))
        except engine.InvalidInput as error:
            db.session.rollback()
            problem = (error.field, error.message)
    if problem:
        getattr(form, problem[0]).errors = [problem[1]]
        db.session.refresh(row)
        return render_template("archive/access_request.html", **_context(row, form)), 422
    target = url_for("archive.access_request", access_id=row.id)
    if is_htmx():
        return redirect_to(target)
    flash(_("Done: the request is now “%(state)s”.",
            state=ArchiveAccessFlow.STATE_LABELS[row.state]), "success")
    return redirect(target)


# --- a sealed file without a grant ---------------------------------------------------------

@bp.app_errorhandler(sealing.SealedFileRefused)
def sealed_file_refused(error: sealing.SealedFileRefused):
    """403 with what to do: the file is sealed; ask the GM. The attempt is kept in the audit
    trail although the request's own changes are rolled back."""
    db.session.rollback()
    audit.record(audit.Action.REFUSED, sealing.OBJECT, error.customer_id,
                 details={"customer": error.customer_id, "year": error.year})
    db.session.commit()
    message = _("The customer file of %(year)s is sealed. Opening it needs the general "
                "manager's approval of your access request.", year=error.year)
    if is_htmx():
        return render_error(403, message)
    customer = db.session.get(Customer, error.customer_id)
    own = None
    if current_user.is_authenticated:
        own = db.session.scalar(select(A).where(
            A.requested_by_id == current_user.id, A.customer_id == error.customer_id,
            A.year == error.year, A.state == S.REQUESTED.value).limit(1))
    return render_template("archive/sealed_refused.html", message=message, customer=customer,
                           year=error.year, pending=own), 403


# --- home ----------------------------------------------------------------------------------

def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


@home_widget(Role.GENERAL_MANAGER)
def access_to_decide(user):
    """Rule C7: requests to open sealed files wait for the GM."""
    query = access.waiting_for(user)
    total = _count(query) if query is not None else 0
    rows = db.session.scalars(query.options(selectinload(A.customer))
                              .order_by(A.created_at).limit(5)).all() if total else []
    items = [(f"{r.number} · {r.customer.name} · {r.year}",
              url_for("archive.access_request", access_id=r.id)) for r in rows]
    return Widget(_l("Sealed files: access requests awaiting you"), total, items,
                  url_for("archive.access_requests", state=S.REQUESTED.value),
                  _l("No access request waits for your decision."))


@home_widget(Role.ARCHIVIST)
def my_access_requests(user):
    """Rule C7: the archivist's own requests still waiting, and grants in force."""
    now = clock.now()
    pending = _count(select(A).where(A.requested_by_id == user.id,
                                     A.state == S.REQUESTED.value))
    live = db.session.scalars(select(A).options(selectinload(A.customer)).where(
        A.requested_by_id == user.id, A.state == S.APPROVED.value, A.expires_at > now)
        .order_by(A.expires_at).limit(5)).all()
    items = [(str(_l("%(number)s: %(customer)s %(year)s, open until %(until)s",
                     number=r.number, customer=r.customer.name, year=r.year,
                     until=r.expires_at.astimezone(settings.tz())
                     .strftime("%Y-%m-%d %H:%M"))),
              url_for("archive.access_request", access_id=r.id)) for r in live]
    return Widget(_l("Your access requests to sealed files"), pending, items,
                  url_for("archive.access_requests", state=S.REQUESTED.value),
                  _l("No request of yours is waiting."))
