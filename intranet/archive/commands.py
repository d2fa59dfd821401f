"""`flask archive keys` (the signing key and certificate, on first set-up) and
`flask archive verify FILE.pdf` (is this a record we issued, unmodified?)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

archive_cli = AppGroup("archive", help="The archive: signing keys and verification.")


@archive_cli.command("keys")
@click.option("--force", is_flag=True, help="Replace an existing key (old PDFs then no "
              "longer verify against the new certificate).")
def archive_keys(force):
    """Create the company's signing key and self-signed certificate, unless they exist."""
    from intranet.archive import keys
    from intranet.core import settings

    key_file, cert_file = keys.paths()
    if key_file.exists() and cert_file.exists() and not force:
        click.echo(f"signing key present: {key_file} (certificate {cert_file})")
        return
    keys.create(str(settings.get("company_name")), key_file, cert_file)
    click.echo(f"created signing key {key_file} (mode 0600) and certificate {cert_file}")


@archive_cli.command("verify")
@click.argument("pdf_file", type=click.File("rb"))
def archive_verify(pdf_file):
    """Say whether PDF_FILE is a record issued here and unmodified; exit 0 only if it is."""
    from intranet.archive import verify
    from intranet.core import settings

    verdict = verify.verify(pdf_file.read())
    if verdict.outcome == verify.ISSUED:
        doc = verdict.document
        issued_at = doc.issued_at.astimezone(settings.tz()).strftime("%Y-%m-%d %H:%M")
        to = doc.issued_to.display_name if doc.issued_to else "-"
        click.echo(f"unmodified record {doc.record_number} ({doc.title}), version "
                   f"{doc.record_version}, issued at {issued_at} to {to}")
        return
    if verdict.outcome == verify.UNREGISTERED:
        click.echo("signed by us, unmodified, but not in the registry of issued documents")
        sys.exit(2)
    click.echo(f"refused: {verdict.reason}")
    sys.exit(1)
