"""Migrations build the schema from empty, and models and migrations agree."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from intranet.extensions import db


def test_migrations_build_every_table(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            # database-only search indexes (migration 0004), as migrations/env.py skips them
            "include_object": lambda obj, name, type_, *rest: not (
                type_ == "index" and name and name.startswith("trgm_"))})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"


def test_search_indexes_exist_where_the_database_supports_them(app):
    with app.app_context():
        names = {ix["name"] for table in ("customer", "contact")
                 for ix in inspect(db.engine).get_indexes(table)}
        dialect = db.engine.dialect.name
    trigram = {n for n in names if n.startswith("trgm_")}
    if dialect == "postgresql":
        assert trigram == {"trgm_customer_name", "trgm_customer_credit_code",
                           "trgm_customer_region", "trgm_contact_phone_digits"}
    else:
        assert trigram == set() and "ix_customer_name" in names


def test_foreign_keys_are_enforced_on_every_database(app):
    """SECURITY.md "Concurrency and faults": SQLite checks foreign keys only with
    PRAGMA foreign_keys = ON; a row pointing at nothing is refused, never stored."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from intranet.extensions import db
    from intranet.models import Contact

    with app.app_context():
        db.session.add(Contact(customer_id=987654, name="无主联系人"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count()).select_from(Contact)) == 0
