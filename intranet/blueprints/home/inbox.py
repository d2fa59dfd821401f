"""The to-do inbox 待办中心 (issue 13 §1): workflows/inbox.py reads it, this page shows it."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intranet.blueprints.home import bp
from intranet.core import audit, notifications
from intranet.core.home import Widget, home_widget
from intranet.core.http import is_htmx, local_path, redirect_to
from intranet.core.i18n import lazy_gettext as _l
from intranet.core.pagination import capped_count, count_label, paginate
from intranet.core.querystring import parse_int
from intranet.core.roles import Role
from intranet.customers import ledger
from intranet.extensions import db
from intranet.visits import tasks
from intranet.workflows import inbox, steps
from intranet.workflows.engine import Conflict, InvalidInput, NotAllowed

notifications.register_kinds(steps.KINDS)
TAB_LABELS = {"waiting": _l("Waiting for me"), "started": _l("Started by me"),
              "done": _l("Handled by me"), "copied": _l("Copied to me")}
audit.register_object_labels({"inbox": _l("To-do")})
audit.register_object_keys("inbox", TAB_LABELS)

QUERIES = {"waiting": inbox.waiting, "started": inbox.started}
LISTS = {"done": inbox.done, "copied": inbox.copied}


@bp.route("/inbox")
def inbox_page():
    tab = request.args.get("tab", "")
    tab = tab if tab in inbox.TABS else "waiting"
    workflow = request.args.get("workflow", "")
    workflow = workflow if inbox.machine(workflow) else ""
    overdue = request.args.get("overdue") == "1" and tab in QUERIES
    if tab in LISTS:
        stmt = LISTS[tab](current_user, workflow or None)
    else:
        stmt = QUERIES[tab](current_user, workflow or None, overdue=overdue)
    page = paginate(stmt, tuples=True)
    items = inbox.items(page.items)
    if tab in ("started", "done"):
        inbox.mark_summary_only(items, current_user)
    # The rows name customers: the page is a read of customer data (SECURITY.md 20).
    audit.record(audit.Action.VIEW, "inbox", tab, details={
        "page": page.page, "rows": [[i.kind, i.row.id] for i in items]})
    started = tab == "started"
    urged = steps.last_urges((i.kind, i.row.id) for i in items) if started else {}
    # Rules V3, V4: the follow-ups due this week are to-dos too (not a workflow's records).
    follow_ups = tasks.due_soon(current_user) if tab == "waiting" and not workflow and (
        current_user.roles & {Role.SALES_REP, Role.SALES_MANAGER}) else (0, [])
    return render_template("home/inbox.html", page=page, items=items, tab=tab,
                           follow_ups=follow_ups, today=ledger.today(),
                           workflow=workflow, overdue=overdue, machines=inbox.machines(),
                           holders=_holders(items) if started else {},
                           may_urge={(i.kind, i.row.id) for i in items if started
                                     and steps.urge_refusal(i.row, current_user, urged.get(
                                         (i.kind, i.row.id))) is None})


def _holders(items) -> dict:
    """{(kind, id): "张三、李四"}: who each open record the user started is with now."""
    from intranet.models import User

    wanted = {(i.kind, i.row.id): i.machine.holders(i.row) for i in items if i.is_open}
    ids = set().union(*wanted.values()) if wanted else set()
    names = dict(db.session.execute(db.select(User.id, User.display_name)
                                    .where(User.id.in_(sorted(ids)))).all()) if ids else {}
    return {key: "、".join(sorted(names[i] for i in people if i in names))
            for key, people in wanted.items() if people}


@bp.route("/inbox/<kind>/<int:record_id>/urge", methods=["POST"])
def urge(kind: str, record_id: int):
    """催办: the one who started a record reminds whoever it waits for."""
    machine = inbox.machine(kind)
    row = db.session.get(machine.model_class, record_id) if machine else None
    if row is None or steps.started_by(row) != current_user.id:
        abort(404)  # only one's own records: nothing said about anyone else's
    refusal = steps.urge_refusal(row, current_user)
    if refusal is not None:
        flash(str(refusal), "error")
    else:
        try:
            told = steps.urge(row, current_user)
        except NotAllowed:
            abort(409)
        flash(_("Reminder sent to %(n)s people.", n=len(told)), "success")
    back = local_path(request.form.get("next") or "")
    return redirect_to(back or url_for("home.inbox_page", tab="started"))


@bp.route("/inbox/count")
def inbox_count():
    """The header's badge: how many records wait for the user (up to the list's cap)."""
    total, more = capped_count(inbox.waiting(current_user))
    return render_template("home/_inbox_badge.html", total=total, label=count_label(total, more))


@home_widget()
def waiting_for_me(user):
    """The first records of the inbox, nearest deadline first, and how many there are."""
    stmt = inbox.waiting(user)
    total, more = capped_count(stmt)
    first = inbox.items(db.session.execute(stmt.limit(5)).all()) if total else []
    return Widget(_l("Waiting for me"), count_label(total, more),
                  [(f"{item.row.number} · {item.machine.LABEL} · {item.step}", item.link or None)
                   for item in first],
                  url_for("home.inbox_page"), _l("Nothing waits for you."))


@bp.route("/inbox/<kind>/<int:record_id>/hand-on", methods=["POST"])
def hand_on(kind: str, record_id: int):
    """转交: whoever holds a step passes it to a colleague of the same role and scope."""
    machine = inbox.machine(kind)
    row = db.session.get(machine.model_class, record_id) if machine else None
    if row is None or steps.hand_on_spec(row, current_user) is None:
        abort(404)  # only the step's holder: nothing said to anyone else
    if parse_int(request.form.get("version"), minimum=0) != row.version:
        raise Conflict(row)
    try:
        colleague = steps.hand_on(row, current_user, parse_int(request.form.get("to_id")),
                                  request.form.get("comment", "")[:2000])
    except InvalidInput as error:
        template = "workflows/_hand_on.html" if is_htmx() else "workflows/hand_on.html"
        return render_template(template, row=row, kind=kind, error=error,
                               colleagues=steps.colleagues(row, current_user),
                               chosen=parse_int(request.form.get("to_id")),
                               reason=request.form.get("comment", "")[:2000]), 422
    flash(_("Handed on to %(name)s.", name=colleague.display_name), "success")
    return redirect_to(notifications.link_for(kind, record_id) or url_for("home.inbox_page"))


def _record(kind: str, record_id: int):
    machine = inbox.machine(kind)
    return db.session.get(machine.model_class, record_id) if machine else None


@bp.route("/inbox/<kind>/<int:record_id>/copy", methods=["POST"])
def copy(kind: str, record_id: int):
    """抄送: whoever started the record or took a step on it copies colleagues in."""
    row = _record(kind, record_id)
    if row is None or not steps.may_copy(row, current_user):
        abort(404)
    ids = [parse_int(v) for v in request.form.getlist("user_ids")[:steps.MAX_COPIES + 1]]
    try:
        people = steps.copy(row, current_user, ids)
    except InvalidInput as error:
        flash(str(error.message), "error")
    else:
        flash(_("Copied in: %(names)s.", names="、".join(p.display_name for p in people)),
              "success")
    return redirect_to(notifications.link_for(kind, record_id) or url_for("home.inbox_page"))


@bp.route("/inbox/<kind>/<int:record_id>")
def copied_record(kind: str, record_id: int):
    """What a colleague copied in, or a party to the record (who started it or took a step),
    may read: the record's summary and timeline, audited."""
    from intranet.workflows import engine

    row = _record(kind, record_id)
    copied = row is not None and steps.is_copied(row, current_user)
    if row is None or not (copied or steps.may_copy(row, current_user)):
        abort(404)
    machine = inbox.machine(kind)
    audit.record(audit.Action.VIEW, kind, record_id,
                 details={"as": "copied" if copied else "party"})
    return render_template("home/copied_record.html", item=inbox.Item(machine, row),
                           history=engine.history(row), event_labels=machine.EVENT_LABELS,
                           state_labels=machine.STATE_LABELS, copied=copied)
