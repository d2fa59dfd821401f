from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, text, update

from intranet.blueprints.home import bp
from intranet.core import clock, notifications
from intranet.core.home import widgets_for
from intranet.core.http import local_path, redirect_to
from intranet.core.pagination import paginate
from intranet.extensions import db
from intranet.models import Notification


@bp.route("/")
def index():
    return render_template("home/index.html", widgets=widgets_for(current_user))


@bp.route("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/notifications", endpoint="notifications")
def notifications_page():
    query = (select(Notification).where(Notification.user_id == current_user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if request.args.get("unread"):
        query = query.where(Notification.read_at.is_(None))
    page = paginate(query)
    return render_template("home/notifications.html", page=page, text_of=notifications.text_of)


@bp.route("/notifications/bell")
def notification_bell():
    return render_template("home/_bell.html",
                           unread=notifications.unread_count(current_user.id))


@bp.route("/notifications/<int:note_id>/read", methods=["POST"])
def notification_read(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:  # only one's own notes
        abort(404)
    if note.read_at is None:
        note.read_at = clock.now()
        notifications.forget_unread(current_user.id)
    target = local_path(note.link) if request.form.get("follow") else None
    return redirect_to(target or "/notifications")


@bp.route("/notifications/read-all", methods=["POST"])
def notifications_read_all():
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    notifications.forget_unread(current_user.id)
    flash(_("All notifications marked as read."), "success")
    return redirect_to(url_for("home.notifications"))
