"""Reads on PostgreSQL: READ ONLY transactions ended with COMMIT, so psycopg keeps its prepared
statements from one read (or step) to the next; a ROLLBACK made it deallocate them all."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine.models import Unit


def test_reads_keep_the_prepared_statements(duban_pg):
    for _ in range(6):  # psycopg prepares a statement at its fifth execution on a connection
        with duban_pg.db.reading() as session:
            session.scalars(select(Unit.id).where(Unit.kind == "unit")).all()
    with duban_pg.db.reading() as session:
        prepared = session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM units" in statement for statement in prepared), prepared


def test_a_read_writes_nothing(duban_pg):
    with duban_pg.db.transaction() as session:
        session.add(Unit(id="u1", name="原名", kind="unit", sort=1))
    with pytest.raises(DBAPIError, match="read-only"), duban_pg.db.reading() as session:
        session.execute(text("UPDATE units SET name = '改名' WHERE id = 'u1'"))
    with duban_pg.db.reading() as session:
        session.get(Unit, "u1").name = "改名"  # an object changed in a read is not stored either
    with duban_pg.db.reading() as session:
        assert session.get(Unit, "u1").name == "原名"
