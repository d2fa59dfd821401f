"""Command-line tools: `flask demo`, `flask audit verify`, `flask users create-admin`."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from intranet.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(customers_cli)
    app.cli.add_command(jobs_cli)


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo company (idempotent) and print the demo accounts."""
    from flask import current_app

    from intranet.demo import DEMO_PASSWORD, load_demo

    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException(
            "the demo creates accounts with a published password; "
            "set DEMO_MODE=1 to confirm this is a demo installation (SECURITY.md 8)")
    accounts = load_demo()
    db.session.commit()
    click.echo(f"\n演示账号 Demo accounts (password for all: {DEMO_PASSWORD})")
    click.echo("-" * 72)
    for username, display_name, roles in accounts:
        click.echo(f"  {username:<12} {display_name:<8} {roles}")
    click.echo("-" * 72)


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--expect-head", metavar="SEQ:HASH",
              help="A head printed earlier; fails if that row is gone (tail cut off).")
def audit_verify(expect_head):
    """Check the hash chain; name the first altered, deleted or reordered row."""
    from intranet.audit import head, verify_chain

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
    from intranet import audit, passwords
    from intranet.models import User
    from intranet.roles import Role

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


customers_cli = AppGroup("customers", help="The customer archive.")


@customers_cli.command("refresh")
@click.option("--batch", default=2000, show_default=True)
def customers_refresh(batch):
    """Recompute trailing sales and tiers (rules C3, C5): the 12-month window moves daily,
    so run this nightly (cron or a systemd timer). Idempotent; overrides are kept."""
    from intranet.customers import ledger
    from intranet.models import Customer

    last_id, done = 0, 0
    while True:
        customers = db.session.scalars(db.select(Customer).where(Customer.id > last_id)
                                       .order_by(Customer.id).limit(batch)).all()
        if not customers:
            break
        ledger.refresh(customers)
        db.session.commit()
        last_id, done = customers[-1].id, done + len(customers)
    click.echo(f"refreshed {done} customers")


jobs_cli = AppGroup("jobs", help="Scheduled workflow side effects (cron / systemd timer).")


@jobs_cli.command("run")
@with_appcontext
def jobs_run():
    """Reminders, escalations, activations and over-limit checks; safe to run twice."""
    from flask import current_app

    from intranet.jobs import run_all

    # Links in notifications are built with url_for, which needs a request context.
    with current_app.test_request_context("/"):
        done = run_all()
    for name, count in done.items():
        click.echo(f"{name}: {count}")
