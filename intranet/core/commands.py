"""The platform's command-line tools: `flask audit verify`, `flask users create-admin`,
`flask jobs run`, `flask backup ...`. Domains add their own (`flask customers refresh`)."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from intranet.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_cli)


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--expect-head", metavar="SEQ:HASH",
              help="A head printed earlier; fails if that row is gone (tail cut off).")
def audit_verify(expect_head):
    """Check the hash chain; name the first altered, deleted or reordered row."""
    from intranet.core.audit import head, verify_chain

    count, problem = verify_chain(expect_head=expect_head)
    if problem is None:
        click.echo(f"audit chain OK: {count} rows verified; head {head()}")
        return
    click.echo(f"audit chain BROKEN at {problem.message}", err=True)
    sys.exit(1)


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create-admin")
@click.argument("username")
@click.option("--display-name", default="系统管理员")
@click.password_option()
def create_admin(username, display_name, password):
    """Create the first administrator of a production installation (no default accounts)."""
    from intranet.core import audit, passwords
    from intranet.core.roles import Role
    from intranet.models import User

    problems = passwords.problems(password, username)
    if problems:
        raise click.ClickException("; ".join(str(p) for p in problems))
    if db.session.scalar(db.select(User).where(User.username == username.lower())):
        raise click.ClickException(f"user {username} exists")
    user = User(username=username.lower(), display_name=display_name,
                password_hash=passwords.hash_password(password))
    user.set_roles([Role.ADMIN])
    db.session.add(user)
    db.session.flush()
    audit.record(audit.Action.CREATE, "user", user.id, details={"roles": ["admin"], "by": "cli"})
    db.session.commit()
    click.echo(f"administrator {username} created")


jobs_cli = AppGroup("jobs", help="Scheduled workflow side effects (cron / systemd timer).")


@jobs_cli.command("run")
@with_appcontext
def jobs_run():
    """Reminders, escalations, activations and over-limit checks; safe to run twice."""
    from flask import current_app

    from intranet.core.jobs import run_all

    # Links in notifications are built with url_for, which needs a request context.
    with current_app.test_request_context("/"):
        done = run_all()
    for name, count in done.items():
        click.echo(f"{name}: {count}")


backup_cli = AppGroup("backup", help="Backups and the restore drill (SECURITY.md 24).")


@backup_cli.command("create")
@click.argument("destination", type=click.Path(dir_okay=False))
def backup_create(destination):
    """A consistent backup while the app runs (SQLite backup API or pg_dump)."""
    from intranet.core import audit, backup

    backup.create(destination)
    click.echo(f"backup written to {destination}; audit head {audit.head()}")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: the database's content is replaced.")
def backup_restore(source, yes):
    """Replace the database with a backup (stop the app first), then verify the audit chain."""
    from intranet.core import audit, backup

    if not yes:
        raise click.ClickException("restoring replaces every record: add --yes to confirm")
    backup.restore(source)
    count, problem = audit.verify_chain()
    if problem is not None:
        click.echo(f"restored, but the audit chain is BROKEN at {problem.message}", err=True)
        sys.exit(1)
    click.echo(f"restored from {source}; audit chain OK: {count} rows; head {audit.head()}")


@backup_cli.command("drill")
def backup_drill():
    """Back up, restore into a scratch copy and re-verify the audit chain there."""
    import tempfile
    from pathlib import Path

    from intranet.core import backup

    with tempfile.TemporaryDirectory(prefix="restore-drill-") as workdir:
        result = backup.drill(Path(workdir))
    if not result.ok:
        click.echo(f"restore drill FAILED: {result.problem or 'head differs'} "
                   f"(restored head {result.head}, live head {result.expected_head})", err=True)
        sys.exit(1)
    click.echo(f"restore drill OK: {result.rows} audit rows re-verified; head {result.head}")
