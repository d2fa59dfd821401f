"""Customer-archive rules (C1-C9) that do not depend on Flask views."""


def init_app(app) -> None:
    """What the platform needs from the customer archive: its command and template labels."""
    from intranet.customers.commands import customers_cli
    from intranet.customers.labels import PAYMENT_LABELS
    from intranet.customers.search_fields import register

    register()

    app.cli.add_command(customers_cli)
    app.jinja_env.globals["payment_labels"] = PAYMENT_LABELS
