"""app.core.database.begin_reads_only: a pipeline phase's reads, without a transaction's round trips on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import database
from app.core.models import Organisation
from app.extensions import db


def _autocommit() -> bool:
    return bool(getattr(db.session.connection().connection.dbapi_connection, "autocommit", False))


def test_reads_run_without_a_transaction_on_postgresql_and_the_next_transaction_is_a_real_one(org):
    db.session.commit()
    database.begin_reads_only(db.session())
    assert db.session.scalar(select(func.count()).select_from(Organisation)) >= 1
    assert _autocommit() == (db.engine.dialect.name == "postgresql")
    db.session.rollback()
    assert db.session.autoflush
    assert db.session.get(Organisation, org.id) is not None
    assert not _autocommit()  # the connection went back to the pool as it was


def test_a_change_made_while_reading_is_never_written(org):
    name = org.name
    db.session.commit()
    database.begin_reads_only(db.session())
    org.name = "Changed by mistake"
    db.session.scalar(select(func.count()).select_from(Organisation))  # no autoflush: nothing is written
    db.session.rollback()
    assert db.session.scalar(select(Organisation.name).where(Organisation.id == org.id)) == name
    assert db.session.autoflush


def test_inside_a_transaction_it_changes_nothing(org):
    db.session.scalar(select(func.count()).select_from(Organisation))  # a transaction already begun
    database.begin_reads_only(db.session())
    assert db.session.autoflush and not _autocommit()
    db.session.rollback()
