"""Users, roles, deputies, company settings and the audit trail (admin; audit also the GM)."""
from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from intranet.blueprints.admin import bp
from intranet.blueprints.admin.forms import DelegationForm, NewUserForm, SetPasswordForm, UserForm
from intranet.core import audit, clock, notifications, passwords, settings
from intranet.core.forms import ConfirmForm, options
from intranet.core.pagination import paginate
from intranet.core.querystring import text_arg
from intranet.core.roles import Role, role_label
from intranet.core.search import contains
from intranet.extensions import db
from intranet.models import AuditEntry, Delegation, Department, User
from intranet.workflows import calendar


def _department_choices():
    departments = db.session.scalars(select(Department).order_by(Department.id)).all()
    return options((d.id, d.name(str(get_locale()))) for d in departments)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users")
def users():
    q = text_arg("q", 64)
    query = select(User).order_by(User.active.desc(), User.username)
    if q:
        query = query.where(or_(contains(User.username, q), contains(User.display_name, q)))
    status = request.args.get("status")
    if status in ("active", "disabled"):
        query = query.where(User.active.is_(status == "active"))
    page = paginate(query)
    template = "admin/_user_rows.html" if request.headers.get("HX-Target") == "user-rows" \
        else "admin/users.html"
    return render_template(template, page=page, q=q, status=status)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = NewUserForm()
    form.department_id.choices = _department_choices()
    if request.method == "GET":
        form.locale.data = "zh_CN"
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        if db.session.scalar(select(User.id).where(User.username == username)):
            form.username.errors.append(_("This user name is taken."))
        else:
            user = User(username=username, display_name=form.display_name.data.strip(),
                        email=form.email.data or None, department_id=form.department_id.data,
                        locale=form.locale.data,
                        password_hash=passwords.hash_password(form.password.data))
            user.set_roles(form.roles.data)
            db.session.add(user)
            db.session.flush()
            audit.record(audit.Action.CREATE, "user", user.id,
                         details={"username": user.username, "roles": sorted(form.roles.data)})
            notifications.notify(user.id, "welcome")
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    form.department_id.choices = _department_choices()
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
    if form.validate_on_submit():
        if user.id == current_user.id and set(form.roles.data) != {r.value for r in user.roles}:
            form.roles.errors.append(_("Another administrator must change your own roles."))
        else:
            before = {"display_name": user.display_name, "email": user.email,
                      "department_id": user.department_id, "locale": user.locale,
                      "roles": sorted(r.value for r in user.roles)}
            user.display_name = form.display_name.data.strip()
            user.email = form.email.data or None
            user.department_id = form.department_id.data
            user.locale = form.locale.data
            roles_changed = set(form.roles.data) != set(before["roles"])
            user.set_roles(form.roles.data)
            after = {**before, "display_name": user.display_name, "email": user.email,
                     "department_id": user.department_id, "locale": user.locale,
                     "roles": sorted(form.roles.data)}
            changed = {k: {"old": before[k], "new": after[k]} for k in before
                       if before[k] != after[k]}
            if changed:
                audit.record(audit.Action.UPDATE, "user", user.id, details=changed)
            if roles_changed:
                notifications.notify(user.id, "roles_changed", roles=",".join(
                    sorted(form.roles.data)))
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user,
                           password_form=SetPasswordForm(user.username), confirm=ConfirmForm())


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    user = _user_or_404(user_id)
    form = SetPasswordForm(user.username)
    if form.validate_on_submit():
        user.password_hash = passwords.hash_password(form.password.data)
        user.rotate_session_token()
        audit.record(audit.Action.UPDATE, "user", user.id, details={"field": "password"})
        notifications.notify(user.id, "password_reset")
        flash(_("New password set; the user's sessions were ended."), "success")
    else:
        for error in form.password.errors:
            flash(error, "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def user_disable(user_id: int):
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        if user.id == current_user.id:
            flash(_("You cannot disable your own account."), "error")
        elif user.active:
            user.active = False
            user.rotate_session_token()  # ends every session of the account at once
            audit.record(audit.Action.UPDATE, "user", user.id, details={"active": False})
            flash(_("Account %(name)s disabled; its sessions were ended.", name=user.username),
                  "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def user_enable(user_id: int):
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit() and not user.active:
        user.active = True
        audit.record(audit.Action.UPDATE, "user", user.id, details={"active": True})
        flash(_("Account %(name)s enabled.", name=user.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _local_to_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=settings.tz()).astimezone(clock.now().tzinfo)


@bp.route("/deputies", methods=["GET", "POST"], endpoint="delegations")
def delegations():
    form = DelegationForm()
    people = options((u.id, f"{u.display_name} ({u.username})") for u in db.session.scalars(
        select(User).where(User.active).order_by(User.username)))
    form.principal_id.choices = people
    form.deputy_id.choices = people
    if request.method == "GET":
        local_now = clock.now().astimezone(settings.tz()).replace(second=0, microsecond=0,
                                                                  tzinfo=None)
        form.starts_at.data = local_now
        form.ends_at.data = datetime.combine(local_now.date() + timedelta(days=1), time(18, 0))
    if form.validate_on_submit():
        principal = db.session.get(User, form.principal_id.data)
        if _local_to_utc(form.ends_at.data) <= clock.now():
            form.ends_at.errors.append(_("This period is already over."))
        elif form.deputy_id.data == current_user.id:
            form.deputy_id.errors.append(_("Another administrator must name you as a deputy."))
        elif Role(form.role.data) not in principal.roles:
            form.role.errors.append(_("The absent approver does not hold this role."))
        else:
            delegation = Delegation(
                principal_id=principal.id, deputy_id=form.deputy_id.data, role=form.role.data,
                starts_at=_local_to_utc(form.starts_at.data),
                ends_at=_local_to_utc(form.ends_at.data),
                reason=form.reason.data.strip(), created_by_id=current_user.id)
            db.session.add(delegation)
            db.session.flush()
            audit.record(audit.Action.CREATE, "delegation", delegation.id,
                         reason=delegation.reason,
                         details={"principal": principal.username,
                                  "deputy_id": delegation.deputy_id, "role": delegation.role})
            notifications.notify(
                delegation.deputy_id, "deputy_named", role=form.role.data,
                principal=principal.display_name,
                start=form.starts_at.data.strftime("%Y-%m-%d %H:%M"),
                end=form.ends_at.data.strftime("%Y-%m-%d %H:%M"))
            flash(_("Deputy named."), "success")
            return redirect(url_for("admin.delegations"))
    page = paginate(select(Delegation).order_by(Delegation.ends_at.desc(), Delegation.id.desc()))
    return render_template("admin/delegations.html", form=form, page=page, now=clock.now(),
                           confirm=ConfirmForm())


@bp.route("/deputies/<int:delegation_id>/revoke", methods=["POST"])
def delegation_revoke(delegation_id: int):
    delegation = db.session.get(Delegation, delegation_id) or abort(404)
    if ConfirmForm().validate_on_submit() and delegation.revoked_at is None:
        delegation.revoked_at = clock.now()
        audit.record(audit.Action.UPDATE, "delegation", delegation.id,
                     details={"revoked": True})
        notifications.notify(delegation.deputy_id, "deputy_revoked",
                             principal=delegation.principal.display_name)
        flash(_("Deputy period revoked."), "success")
    return redirect(url_for("admin.delegations"))


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
def settings_page():
    errors = {}
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        # Only the settings the form showed change (an unchecked box sends nothing, so
        # checkboxes carry a hidden "<key>__shown" marker).
        changes = {key: request.form[key] for key, d in settings.SETTINGS.items()
                   if d.kind != "bool" and key in request.form}
        for key, definition in settings.SETTINGS.items():
            if definition.kind == "bool" and f"{key}__shown" in request.form:
                changes[key] = "1" if request.form.get(key) else ""
        errors = settings.update(changes)
        if not errors:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings"))
        flash(_("Some fields are not valid. Please correct them."), "error")
    values = {key: request.form.get(key, settings.get(key)) if errors else settings.get(key)
              for key in settings.SETTINGS}
    first, last = calendar.STATUTORY_YEARS
    return render_template("admin/settings.html", definitions=settings.SETTINGS.values(),
                           values=values, errors=errors, form=form,
                           statutory_first=first, statutory_last=last)



AUDIT_FILTERS = ("user", "action", "object_type", "object_id", "from", "to", "page")


@bp.route("/audit", endpoint="audit")
def audit_log():
    args = request.args
    query = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if text_arg("user", 64):
        query = query.where(AuditEntry.username == text_arg("user", 64).lower())
    if args.get("action"):
        query = query.where(AuditEntry.action == args["action"])
    if args.get("object_type"):
        query = query.where(AuditEntry.object_type == args["object_type"])
    if text_arg("object_id"):
        query = query.where(AuditEntry.object_id == text_arg("object_id"))
    tz = settings.tz()
    for name, op in (("from", "ge"), ("to", "lt")):
        raw = args.get(name)
        if not raw:
            continue
        try:
            day = datetime.strptime(raw, "%Y-%m-%d")
            if not 2000 <= day.year <= 2100:
                raise ValueError(raw)
        except ValueError:
            flash(_("Dates must look like 2026-01-31."), "error")
            continue
        if op == "lt":
            day += timedelta(days=1)  # "to" includes the whole day
        moment = day.replace(tzinfo=tz)
        query = query.where(AuditEntry.ts >= moment if op == "ge" else AuditEntry.ts < moment)
    page = paginate(query)
    # Who read the trail, and with which filters, is itself worth knowing.
    audit.record(audit.Action.VIEW, "audit_trail", "", details={
        k: v for k, v in args.items() if k in AUDIT_FILTERS and v})
    return render_template("admin/audit.html", page=page, args=args,
                           actions=audit.ACTION_LABELS, objects=audit.OBJECT_LABELS,
                           role_label=role_label, names=audit.names_of(page.items),
                           steps=_step_labels(page.items))


def _step_labels(entries) -> dict:
    """{seq: what a workflow step was called} for entries that record one ("event")."""
    import json

    from intranet.workflows.engine import REGISTRY
    from intranet.workflows.steps import LABELS

    found = {}
    for entry in entries:
        machine = REGISTRY.get(entry.object_type)
        if machine is None or '"event"' not in (entry.details or ""):
            continue
        try:
            event = json.loads(entry.details).get("event")
        except (ValueError, AttributeError):
            continue
        label = machine.EVENT_LABELS.get(event) or LABELS.get(event)
        if label:
            found[entry.seq] = label
    return found
