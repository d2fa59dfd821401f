"""A rep's allocation record (rules R7, R8, R9): load, experience, away, penalties and the
suspension in force, first contacts; the department's manager records and lifts penalties and
sets experience and away here. The list of reps is the manager's (their department) and the
general manager's (all)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import ValidationError

from intranet.blueprints.sales import bp
from intranet.core import audit, clock, notifications, settings
from intranet.core.forms import REQUIRED, Form, length
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import paginate
from intranet.core.querystring import text_arg
from intranet.core.roles import Role
from intranet.core.search import contains
from intranet.extensions import db
from intranet.models import ContactMiss, Customer, OwnershipRecord, Penalty, User, UserRole
from intranet.models.user import EXPERIENCE_LEVELS
from intranet.resources import EXPERIENCE_LABELS, allocation, first_contact, reps, suspensions
from intranet.resources.settings import MAX_CUSTOMERS


class ProfileForm(Form):
    experience = SelectField(_l("Experience"), choices=lambda: [
        (level, str(EXPERIENCE_LABELS[level])) for level in EXPERIENCE_LEVELS])
    away = BooleanField(_l("Away (receives no allocations)"))


class PenaltyForm(Form):
    reason = StringField(_l("Reason for the penalty"), validators=[REQUIRED, length(500, 2)])


class LiftForm(Form):
    reason = StringField(_l("Reason for lifting"), validators=[REQUIRED, length(500, 2)])

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("This field is required."))


@bp.route("/reps")
def reps_list():
    departments = reps.visible_departments(current_user)
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == Role.SALES_REP.value))
    if departments is not None:
        query = query.where(User.department_id.in_(departments or [-1]))
    q = text_arg("q")
    if q:
        query = query.where(contains(User.display_name, q))
    page = paginate(query.order_by(User.name_pinyin, User.id))
    ids = [u.id for u in page.items]
    audit.record(audit.Action.VIEW, "rep", "", details={"list": "reps", "rows": ids})
    return render_template("sales/reps.html", page=page, q=q, loads=allocation.loads(ids),
                           suspended=suspensions.suspended_until(ids),
                           skips=first_contact.pending_skips(ids),
                           cap=settings.get(MAX_CUSTOMERS))


def _page(rep: User, **forms):
    now = clock.now()
    allocations = db.session.execute(
        select(OwnershipRecord, Customer.name)
        .join(Customer, Customer.id == OwnershipRecord.customer_id)
        .where(OwnershipRecord.to_user_id == rep.id, OwnershipRecord.kind == "allocation")
        .order_by(OwnershipRecord.at.desc(), OwnershipRecord.id.desc()).limit(10)).all()
    misses = db.session.scalars(select(ContactMiss).where(ContactMiss.user_id == rep.id)
                                .order_by(ContactMiss.missed_at.desc()).limit(10)).all()
    return {
        "rep": rep, "now": now, "load": allocation.loads([rep.id]).get(rep.id, 0),
        "cap": settings.get(MAX_CUSTOMERS), "penalties": suspensions.of_rep(rep.id),
        "until": suspensions.suspended_until([rep.id], now).get(rep.id),
        "skip": first_contact.pending_skips([rep.id]).get(rep.id),
        "waiting": first_contact.running_for(rep.id), "allocations": allocations,
        "misses": misses, "manage": reps.can_manage(current_user, rep),
        "profile_form": forms.get("profile_form") or ProfileForm(
            formdata=None, experience=rep.experience, away=rep.away),
        "penalty_form": forms.get("penalty_form") or PenaltyForm(formdata=None),
        "lift_form": forms.get("lift_form") or LiftForm(formdata=None),
        "lift_id": forms.get("lift_id"), "experience": EXPERIENCE_LABELS,
    }


@bp.route("/reps/<int:rep_id>")
def rep(rep_id: int):
    person = reps.rep_or_404(rep_id, current_user)
    audit.record(audit.Action.VIEW, "rep", person.id)
    return render_template("sales/rep.html", **_page(person))


@bp.route("/reps/<int:rep_id>/profile", methods=["POST"])
def rep_profile(rep_id: int):
    person = reps.rep_or_404(rep_id, current_user, "manage")
    form = ProfileForm()
    if form.validate_on_submit():
        before = {"experience": person.experience, "away": person.away}
        person.experience, person.away = form.experience.data, bool(form.away.data)
        audit.record(audit.Action.UPDATE, "rep", person.id, details={
            "old": before, "new": {"experience": person.experience, "away": person.away}})
        flash(_("Saved."), "success")
        return redirect(url_for("sales.rep", rep_id=person.id))
    return render_template("sales/rep.html", **_page(person, profile_form=form)), 422


@bp.route("/reps/<int:rep_id>/penalties", methods=["POST"])
def penalty_add(rep_id: int):
    person = reps.rep_or_404(rep_id, current_user, "manage")
    form = PenaltyForm()
    if form.validate_on_submit() and (form.reason.data or "").strip():
        penalty = suspensions.record(person, form.reason.data, current_user)
        notifications.notify(person.id, "penalty_recorded", url_for("sales.rep", rep_id=person.id),
                             reason=penalty.reason, until=_day_before(penalty.ends_at))
        flash(_("Penalty recorded; no allocations until %(until)s.",
                until=_day_before(penalty.ends_at)), "success")
        return redirect(url_for("sales.rep", rep_id=person.id))
    if not form.reason.errors:
        form.reason.errors = [_("This field is required.")]
    return render_template("sales/rep.html", **_page(person, penalty_form=form)), 422


@bp.route("/reps/<int:rep_id>/penalties/<int:penalty_id>/lift", methods=["POST"])
def penalty_lift(rep_id: int, penalty_id: int):
    person = reps.rep_or_404(rep_id, current_user, "manage")
    penalty = db.session.get(Penalty, penalty_id)
    if penalty is None or penalty.user_id != person.id:
        abort(404)
    form = LiftForm()
    if penalty.lifted_at is not None:
        flash(_("This penalty was already lifted."), "error")
        return render_template("sales/rep.html", **_page(person)), 409
    if form.validate_on_submit():
        suspensions.lift(penalty, form.reason.data, current_user)
        notifications.notify(person.id, "penalty_lifted", url_for("sales.rep", rep_id=person.id),
                             on=_day(penalty.recorded_at), reason=penalty.lift_reason)
        flash(_("Penalty lifted."), "success")
        return redirect(url_for("sales.rep", rep_id=person.id))
    return render_template("sales/rep.html", **_page(person, lift_form=form,
                                                     lift_id=penalty.id)), 422


def _day(moment) -> str:
    return moment.astimezone(settings.tz()).date().isoformat()


def _day_before(moment) -> str:
    """The last day of a suspension that ends at the start of `moment`'s day."""
    return _day(moment - timedelta(seconds=1))
